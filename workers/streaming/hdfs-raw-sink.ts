// Writes a partition's raw lines to HDFS so that a crash at any point leaves neither a loss nor a
// second copy. One flush:
//   1. write one temporary file per hour under _tmp/<topic>/<partition>/;
//   2. write the partition's marker: the offset range and the renames to do;
//   3. rename each temporary file into its hour folder (rename is atomic in HDFS);
//   then the caller commits the Kafka offset.
// After a crash, recover() completes the renames the marker names and removes stray temporary
// files; the marker's end offset is where that partition resumes (as Kafka Connect's HDFS sink
// derives its resume point from what is in HDFS). A flush starts only after the previous one was
// committed, so a marker lost half-written only loses temporary files of an uncommitted range.
import type { Hdfs } from '../../lib/clients/hdfs.ts';
import { markerPath, type PendingLine, planFiles, tmpDir } from './raw-layout.ts';

interface Marker {
  start: string;
  end: string;
  moves: { from: string; to: string }[];
}

export class HdfsRawSink {
  private readonly knownDirs = new Set<string>();

  constructor(
    private readonly hdfs: Hdfs,
    private readonly root: string,
    private readonly topic: string,
  ) {}

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await this.hdfs.mkdirs(dir);
    this.knownDirs.add(dir);
  }

  /**
   * The partition's marker, or undefined when there is none or it was cut short by a crash (nothing
   * of that flush was renamed nor committed). A marker that cannot be read (HDFS down, a timeout)
   * is an error: guessing "no marker" would resume from Kafka's commit alone and could write a range
   * twice, so the partition waits (the caller retries) until HDFS answers.
   */
  private async readMarker(partition: number): Promise<Marker | undefined> {
    const path = markerPath(this.root, this.topic, partition);
    if (!(await this.hdfs.stat(path))) return undefined;
    const text = (await this.hdfs.readFile(path)).toString('utf8');
    try {
      const m = JSON.parse(text) as Marker;
      return typeof m.end === 'string' && Array.isArray(m.moves) ? m : undefined;
    } catch {
      return undefined; // cut short by a crash while it was written
    }
  }

  private async applyMoves(moves: Marker['moves']): Promise<void> {
    for (const { from, to } of moves) {
      if (!(await this.hdfs.stat(from))) continue; // already renamed
      if (await this.hdfs.stat(to)) {
        await this.hdfs.remove(from);
        continue;
      }
      await this.ensureDir(to.slice(0, to.lastIndexOf('/')));
      await this.hdfs.rename(from, to);
    }
  }

  /** Completes an interrupted flush; returns the last offset already in HDFS for the partition. */
  async recover(partition: number): Promise<bigint | undefined> {
    const marker = await this.readMarker(partition);
    if (marker) await this.applyMoves(marker.moves);
    await this.hdfs.remove(tmpDir(this.root, this.topic, partition), true).catch(() => {});
    return marker ? BigInt(marker.end) : undefined;
  }

  /** Writes the lines of offsets up to `end`; returns the paths of the files written. */
  async flush(partition: number, lines: PendingLine[], end: bigint): Promise<string[]> {
    if (!lines.length) return [];
    const plans = planFiles(this.root, this.topic, partition, lines);
    const tmp = tmpDir(this.root, this.topic, partition);
    const start = lines[0]?.offset ?? end;
    const moves = await Promise.all(
      plans.map(async (plan, i) => {
        const from = `${tmp}/${start}-${i}.ndjson`;
        await this.hdfs.writeFile(from, `${plan.lines.join('\n')}\n`);
        return { from, to: `${plan.dir}/${plan.name}` };
      }),
    );
    const marker: Marker = { start: start.toString(), end: end.toString(), moves };
    await this.hdfs.writeFile(markerPath(this.root, this.topic, partition), JSON.stringify(marker));
    await this.applyMoves(moves);
    return moves.map((m) => m.to);
  }
}
