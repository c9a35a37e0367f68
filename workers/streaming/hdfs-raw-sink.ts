// Writes a partition's raw lines to HDFS so that a crash at any point leaves neither a loss nor a
// second copy, and so that a member that lost the partition (a "zombie": frozen, partitioned from
// the broker, its session expired) cannot write into it any more.
//
// Ownership: a member that is given a partition claims it in HDFS before anything else, by creating
// the file _owners/<topic>/<partition>/<epoch> with the next epoch; the NameNode lets exactly one
// creator have a name. It then fences the earlier claims: their temporary folders are moved aside
// (_fenced/), so a zombie's renames from them fail, and its own marker (epoch N+1) makes theirs void.
//
// One flush, by the owner of epoch N:
//   1. write one temporary file per hour under _tmp/<topic>/<partition>/<N>-<member id>/;
//   2. check that N is still the highest claim (else: FencedError, nothing more is written);
//   3. write the marker _markers/<topic>/<partition>/<N>.<seq>.json: the offset range and the renames;
//   4. rename each temporary file into its hour folder (rename is atomic in HDFS);
//   then the caller commits the Kafka offset, and the claim's earlier markers are removed.
// No file is ever written twice: a retried flush writes new temporary files and a new marker (a
// write cut short by a DataNode restart can leave its file open under a dead client's lease, which
// would refuse an overwrite until the NameNode's lease limit). The newest marker that parses wins.
// A zombie that passed step 2 before a new claim either renamed before the new owner fenced its
// folder (then its marker, written before, is the one the new owner reads and completes) or finds
// its files moved and renames nothing. After a crash, recover() is the same claim: it completes the
// renames of the newest marker (from the fenced folder if need be) and resumes after its end offset.
import { randomBytes } from 'node:crypto';
import type { HdfsStore } from '../../lib/clients/hdfs.ts';
import { errorMessage } from '../../lib/errors.ts';
import {
  claimsDir,
  epochName,
  epochOf,
  fencedDir,
  legacyMarkerPath,
  markerName,
  markerOrder,
  markersDir,
  ndjsonBody,
  type PendingLine,
  planFiles,
  tmpDir,
} from './raw-layout.ts';

/** HDFS's refusal to read a file still open under a lease: its last block has no length yet. */
const UNFINISHED_FILE = /Cannot obtain block length/;

interface Marker {
  epoch?: number;
  start: string | null;
  /** The last offset in HDFS; null when nothing of the partition is. */
  end: string | null;
  moves: { from: string; to: string }[];
}

interface Claim {
  epoch: number;
  /** The claim's own temporary folder name: `<epoch>-<member id>`. */
  folder: string;
  /** The sequence number of this claim's next marker. */
  nextMarker: number;
  /** The oldest of this claim's markers that may still exist. */
  oldestMarker: number;
}

/** This member no longer owns the partition: another one claimed it since. */
export class FencedError extends Error {
  constructor(partition: number, mine: number, current: number | undefined) {
    super(`partition ${partition} was claimed by another member (epoch ${current}, this member's ${mine})`);
    this.name = 'FencedError';
  }
}

export class HdfsRawSink {
  private readonly knownDirs = new Set<string>();
  /** Unique per worker process; with the epoch, unique per member and claim. */
  private readonly memberId = randomBytes(6).toString('hex');
  private readonly claims = new Map<number, Claim>();
  /** Numbers the temporary files of each flush attempt, so that none is written twice. */
  private attempts = 0;

  constructor(
    private readonly hdfs: HdfsStore,
    private readonly root: string,
    private readonly topic: string,
  ) {}

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await this.hdfs.mkdirs(dir);
    this.knownDirs.add(dir);
  }

  private async highestClaim(partition: number): Promise<number | undefined> {
    const epochs = (await this.hdfs.listIfExists(claimsDir(this.root, this.topic, partition)))
      .map((f) => epochOf(f.pathSuffix))
      .filter((e): e is number => e !== undefined);
    return epochs.length ? Math.max(...epochs) : undefined;
  }

  private async claim(partition: number): Promise<Claim> {
    const dir = claimsDir(this.root, this.topic, partition);
    for (let attempt = 0; attempt < 10; attempt++) {
      const epoch = ((await this.highestClaim(partition)) ?? 0) + 1;
      if (await this.hdfs.createExclusive(`${dir}/${epochName(epoch)}`, this.memberId)) {
        return { epoch, folder: `${epochName(epoch)}-${this.memberId}`, nextMarker: 0, oldestMarker: 0 };
      }
    }
    throw new Error(`could not claim partition ${partition}: other members keep claiming it`);
  }

  /**
   * The newest marker: the highest epoch's, and in it the highest sequence's, that parses (a marker
   * cut short by a crash was of a flush that renamed and committed nothing), else the one from
   * before claims existed. A marker that cannot be read (HDFS down, a timeout) is an error, never
   * taken for "no marker".
   */
  private async latestMarker(partition: number): Promise<Marker | undefined> {
    const dir = markersDir(this.root, this.topic, partition);
    const names = (await this.hdfs.listIfExists(dir))
      .flatMap((f) => {
        const order = markerOrder(f.pathSuffix);
        return order ? [{ name: f.pathSuffix, ...order }] : [];
      })
      .sort((a, b) => b.epoch - a.epoch || b.seq - a.seq)
      .map((m) => m.name);
    for (const name of names) {
      const m = await this.hdfs.readFile(`${dir}/${name}`).then(
        (body) => parseMarker(body.toString('utf8')),
        (err: unknown) => {
          // A marker whose create was cut short by a DataNode stop stays open under a dead client's
          // lease, and HDFS cannot tell its length until the lease is recovered (up to the hard
          // limit). Its write never succeeded, so nothing was committed after it: as a torn marker.
          if (UNFINISHED_FILE.test(errorMessage(err))) return undefined;
          throw err;
        },
      );
      if (m) return m;
    }
    const legacy = legacyMarkerPath(this.root, this.topic, partition);
    if (!(await this.hdfs.stat(legacy))) return undefined;
    return parseMarker((await this.hdfs.readFile(legacy)).toString('utf8'));
  }

  /** A move's source, or where the fence put it. */
  private async source(partition: number, from: string): Promise<string | undefined> {
    if (await this.hdfs.stat(from)) return from;
    const tmp = `${tmpDir(this.root, this.topic, partition)}/`;
    if (!from.startsWith(tmp)) return undefined;
    const fenced = `${fencedDir(this.root, this.topic, partition)}/${from.slice(tmp.length)}`;
    return (await this.hdfs.stat(fenced)) ? fenced : undefined;
  }

  /**
   * Renames a marker's files into place. Recovery (`recovering`) also takes them from the fenced
   * folder and skips what is already renamed; a flush only renames its own files, and one missing
   * means the folder was fenced: this member is not the owner any more.
   */
  private async applyMoves(partition: number, moves: Marker['moves'], recovering: boolean): Promise<void> {
    for (const { from, to } of moves) {
      const src = recovering ? await this.source(partition, from) : (await this.hdfs.stat(from)) && from;
      if (!src) {
        if (recovering) continue; // already renamed
        const mine = this.claims.get(partition)?.epoch ?? 0;
        this.claims.delete(partition);
        throw new FencedError(partition, mine, await this.highestClaim(partition));
      }
      if (await this.hdfs.stat(to)) {
        await this.hdfs.remove(src); // the same range, already in place
        continue;
      }
      await this.ensureDir(to.slice(0, to.lastIndexOf('/')));
      await this.hdfs.rename(src, to);
    }
  }

  /**
   * Claims the partition, fences earlier claims, completes the newest marker's renames; returns the
   * last offset already in HDFS for the partition.
   */
  async recover(partition: number): Promise<bigint | undefined> {
    const mine = await this.claim(partition);
    this.claims.set(partition, mine);
    const tmp = tmpDir(this.root, this.topic, partition);
    const fenced = fencedDir(this.root, this.topic, partition);
    const stray: string[] = [];
    for (const entry of await this.hdfs.listIfExists(tmp)) {
      if (entry.type === 'DIRECTORY') {
        if (entry.pathSuffix === mine.folder) continue;
        await this.ensureDir(fenced);
        await this.hdfs.rename(`${tmp}/${entry.pathSuffix}`, `${fenced}/${entry.pathSuffix}`);
      } else {
        stray.push(`${tmp}/${entry.pathSuffix}`); // written before claims existed
      }
    }
    // Read after the fence: a renaming writer wrote its marker before, so it is the one read here.
    const marker = await this.latestMarker(partition);
    if (marker) await this.applyMoves(partition, marker.moves, true);
    for (const path of stray) await this.hdfs.remove(path).catch(() => {});
    // From now on this marker is the newest: whatever an earlier owner writes to its own is void.
    const end = marker?.end ?? null;
    await this.hdfs.writeFile(
      `${markersDir(this.root, this.topic, partition)}/${markerName(mine.epoch, mine.nextMarker++)}`,
      JSON.stringify({ epoch: mine.epoch, start: end, end, moves: [] } satisfies Marker),
    );
    await this.removeOlderThan(partition, mine.epoch);
    return end === null ? undefined : BigInt(end);
  }

  /** Claims, markers and fenced folders of epochs before `epoch`: nobody reads them any more. */
  private async removeOlderThan(partition: number, epoch: number): Promise<void> {
    const dirs = [
      claimsDir(this.root, this.topic, partition),
      markersDir(this.root, this.topic, partition),
      fencedDir(this.root, this.topic, partition),
    ];
    for (const dir of dirs) {
      for (const f of await this.hdfs.listIfExists(dir)) {
        const e = epochOf(f.pathSuffix);
        if (e !== undefined && e < epoch)
          await this.hdfs.remove(`${dir}/${f.pathSuffix}`, true).catch(() => {});
      }
    }
    await this.hdfs.remove(legacyMarkerPath(this.root, this.topic, partition)).catch(() => {});
  }

  /** Writes the lines of offsets up to `end`; returns the paths of the files written. */
  async flush(partition: number, lines: PendingLine[], end: bigint): Promise<string[]> {
    if (!lines.length) return [];
    const mine = this.claims.get(partition);
    if (!mine) throw new FencedError(partition, 0, await this.highestClaim(partition));
    const plans = planFiles(this.root, this.topic, partition, lines);
    const tmp = `${tmpDir(this.root, this.topic, partition)}/${mine.folder}`;
    const start = lines[0]?.offset ?? end;
    const attempt = this.attempts++;
    const moves = await Promise.all(
      plans.map(async (plan, i) => {
        const from = `${tmp}/${start}-${i}-${attempt}.ndjson`;
        await this.hdfs.writeFile(from, ndjsonBody(plan.lines));
        return { from, to: `${plan.dir}/${plan.name}` };
      }),
    );
    const current = await this.highestClaim(partition);
    if (current !== mine.epoch) {
      this.claims.delete(partition);
      // Only this member's own files: the new owner reads these offsets from Kafka again.
      await this.hdfs.remove(tmp, true).catch(() => {});
      throw new FencedError(partition, mine.epoch, current);
    }
    const marker: Marker = { epoch: mine.epoch, start: start.toString(), end: end.toString(), moves };
    const dir = markersDir(this.root, this.topic, partition);
    const seq = mine.nextMarker++;
    await this.hdfs.writeFile(`${dir}/${markerName(mine.epoch, seq)}`, JSON.stringify(marker));
    await this.applyMoves(partition, moves, false);
    // The claim's earlier markers (usually one; more after failed attempts) are superseded by this
    // one, complete and applied. By name: no listing on the way to the commit.
    for (; mine.oldestMarker < seq; mine.oldestMarker++)
      await this.hdfs.remove(`${dir}/${markerName(mine.epoch, mine.oldestMarker)}`).catch(() => {});
    return moves.map((m) => m.to);
  }
}

function parseMarker(text: string): Marker | undefined {
  try {
    const m = JSON.parse(text) as Marker;
    const endOk = m.end === null || typeof m.end === 'string';
    return endOk && Array.isArray(m.moves) ? m : undefined;
  } catch {
    return undefined; // cut short by a crash while it was written
  }
}
