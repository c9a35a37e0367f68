// Where events live in HDFS, and what the names there say: the one owner of the layout, shared by
// the streaming worker (writer of raw files), the batch (compaction and load) and the benches.
//   <root>/<topic>/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<firstOffset>+<lastOffset>.ndjson  (raw)
//   <lake>/<topic>/dt=YYYY-MM-DD/hour=HH/part-<digest of the inputs>.parquet                  (compacted)
// (An hour compacted by an older logpipe may hold compacted-<digest>.ndjson: still read, merged
// into the hour's next Parquet file when late events arrive.)
// Offsets are zero-padded so names sort in offset order. Names starting with `_` are temporary and
// every reader skips them. Pure functions (no I/O, no Node modules): the workflow imports them too.

/** An event hour: its day (YYYY-MM-DD, UTC) and hour (0-23). */
export interface HourKey {
  dt: string;
  hour: number;
}

export interface RawFileName {
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

export const HOUR_MS = 3_600_000;
const pad2 = (n: number) => String(n).padStart(2, '0');
const padOffset = (o: bigint) => o.toString().padStart(20, '0');

/** `YYYY-MM-DDTHH`, the hour's name in results, locks and reports. */
export const hourKey = (dt: string, hour: number) => `${dt}T${pad2(hour)}`;

export const hourStartMs = (dt: string, hour: number) => Date.parse(`${hourKey(dt, hour)}:00:00Z`);

/** Whether the hour has ended before `at` (ms): only then can no more of its events be written. */
export const hourClosedBefore = (h: HourKey, at: number) => hourStartMs(h.dt, h.hour) + HOUR_MS <= at;

/** The hour an instant falls in (UTC). */
export function hourOf(at: Date): HourKey {
  const iso = at.toISOString();
  return { dt: iso.slice(0, 10), hour: Number(iso.slice(11, 13)) };
}

/** The folder of one event hour. */
export const hourFolder = (root: string, topic: string, dt: string, hour: number) =>
  `${root}/${topic}/dt=${dt}/hour=${pad2(hour)}`;

/** The folder of the hour an instant falls in. */
export function hourDir(root: string, topic: string, at: Date): string {
  const h = hourOf(at);
  return hourFolder(root, topic, h.dt, h.hour);
}

/** The day of a `dt=YYYY-MM-DD` folder name, or undefined for any other name. */
export function parseDayFolder(name: string): string | undefined {
  return /^dt=(\d{4}-\d{2}-\d{2})$/.exec(name)?.[1];
}

/** The hour of an `hour=HH` folder name (two digits), or undefined for any other name. */
export function parseHourFolder(name: string): number | undefined {
  const m = /^hour=(\d{2})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Whether a file name in an hour folder is data (raw NDJSON, a compacted Parquet or NDJSON file), not a temporary file. */
export const isDataFileName = (name: string) =>
  (name.endsWith('.ndjson') || name.endsWith('.parquet')) && !name.startsWith('_');

/** Whether a data file is Parquet (a lake hour), rather than NDJSON lines. */
export const isParquetName = (path: string) => path.endsWith('.parquet');

export function rawFileName(f: RawFileName): string {
  return `${f.topic}+${f.partition}+${padOffset(f.firstOffset)}+${padOffset(f.lastOffset)}.ndjson`;
}

export function parseRawFileName(name: string): RawFileName | undefined {
  const m = /^(.+)\+(\d+)\+(\d+)\+(\d+)\.ndjson$/.exec(name);
  if (!m) return undefined;
  return {
    topic: m[1] as string,
    partition: Number(m[2]),
    firstOffset: BigInt(m[3] as string),
    lastOffset: BigInt(m[4] as string),
  };
}

/** A compacted file's name, from the digest of its sorted input paths (so a retry finds the same name). */
export const compactedFileName = (inputsDigest: string) => `part-${inputsDigest.slice(0, 16)}.parquet`;

/** The temporary name a file is written under before it is renamed into place. */
export const temporaryName = (name: string) => `_tmp-${name}`;
