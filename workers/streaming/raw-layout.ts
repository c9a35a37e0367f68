// The streaming worker's own names in HDFS (temporary folders, commit markers, ownership claims)
// and its plan of raw files from buffered lines. The layout of the data itself (hour folders, file
// names) is lib/hdfs-layout.ts, shared with the batch.
import { HOUR_MS, hourDir, rawFileName } from '../../lib/hdfs-layout.ts';

/**
 * Temporary files, the per-partition commit markers and ownership claims live beside the data,
 * under names readers skip. Each claim of a partition has an epoch (1, 2, …) and the claimer's
 * member id; its temporary files go to a folder of that claim only, and its markers are named by
 * epoch and write (markerName).
 */
export const tmpDir = (root: string, topic: string, partition: number) =>
  `${root}/_tmp/${topic}/${partition}`;
/** Where a new owner moves the temporary folders of earlier claims, so their writers cannot rename them. */
export const fencedDir = (root: string, topic: string, partition: number) =>
  `${root}/_fenced/${topic}/${partition}`;
export const claimsDir = (root: string, topic: string, partition: number) =>
  `${root}/_owners/${topic}/${partition}`;
export const markersDir = (root: string, topic: string, partition: number) =>
  `${root}/_markers/${topic}/${partition}`;
/** The one marker per partition written before claims existed: read once, as epoch 0. */
export const legacyMarkerPath = (root: string, topic: string, partition: number) =>
  `${root}/_markers/${topic}/${partition}.json`;

const EPOCH_DIGITS = 10;
const SEQ_DIGITS = 10;
export const epochName = (epoch: number) => String(epoch).padStart(EPOCH_DIGITS, '0');
/**
 * The epoch a claim, marker or claim folder is named by (`0000000003`, `0000000003.json`,
 * `0000000003.0000000007.json`, `0000000003-<member id>`).
 */
export function epochOf(name: string): number | undefined {
  const m = /^(\d{10})(?:-[0-9a-f]+)?$/.exec(name);
  return m ? Number(m[1]) : markerOrder(name)?.epoch;
}

/**
 * A marker's name: its claim's epoch and a sequence number, new for every write. HDFS files are
 * never overwritten: a write cut short (a DataNode stopped mid-write) can leave its file open under
 * a lease of a client that is gone, and overwriting it fails until the NameNode recovers that lease.
 */
export const markerName = (epoch: number, seq: number) =>
  `${epochName(epoch)}.${String(seq).padStart(SEQ_DIGITS, '0')}.json`;

/** Epoch and sequence of a marker name (a marker of one epoch only, from before sequences: 0). */
export function markerOrder(name: string): { epoch: number; seq: number } | undefined {
  const m = /^(\d{10})(?:\.(\d{10}))?\.json$/.exec(name);
  return m ? { epoch: Number(m[1]), seq: m[2] === undefined ? 0 : Number(m[2]) } : undefined;
}

export interface PendingLine {
  offset: bigint;
  at: Date;
  /** The stored line, UTF-8, without its newline (bytes off the V8 heap). */
  line: Uint8Array;
}

export interface FilePlan {
  dir: string;
  name: string;
  lines: Uint8Array[];
}

/** A raw file's body: each line followed by a newline. */
export function ndjsonBody(lines: Uint8Array[]): Buffer {
  let size = lines.length;
  for (const l of lines) size += l.length;
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (const l of lines) {
    body.set(l, at);
    at += l.length;
    body[at++] = 0x0a;
  }
  return body;
}

/** Splits a partition's buffered lines into one file per hour of the events' own timestamps. */
export function planFiles(
  root: string,
  topic: string,
  partition: number,
  pending: PendingLine[],
): FilePlan[] {
  // Grouped by the hour's number (no text per line), then named once per hour.
  const byHour = new Map<number, PendingLine[]>();
  for (const p of pending) {
    const hour = Math.floor(p.at.getTime() / HOUR_MS);
    const list = byHour.get(hour);
    if (list) list.push(p);
    else byHour.set(hour, [p]);
  }
  return [...byHour.entries()]
    .sort(([a], [b]) => a - b)
    .map(([hour, lines]) => ({
      dir: hourDir(root, topic, new Date(hour * HOUR_MS)),
      name: rawFileName({
        topic,
        partition,
        firstOffset: lines[0]?.offset ?? 0n,
        lastOffset: lines.at(-1)?.offset ?? 0n,
      }),
      lines: lines.map((l) => l.line),
    }));
}
