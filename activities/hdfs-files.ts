// Lists the data files in HDFS (raw or compacted), by hour folder (layout: lib/hdfs-layout.ts).
import type { HdfsFileStatus, HdfsStore } from '../lib/clients/hdfs.ts';
import {
  type HourKey,
  hourFolder,
  isDataFileName,
  parseDayFolder,
  parseHourFolder,
} from '../lib/hdfs-layout.ts';

export interface RawFile {
  path: string;
  dt: string;
  hour: number;
  bytes: number;
  modifiedAt: number;
}

/** A data file (not a folder, not a temporary or marker file). */
const isDataFile = (f: HdfsFileStatus) => f.type === 'FILE' && isDataFileName(f.pathSuffix);

/** A folder HDFS reports empty: nothing under it to list. */
const empty = (f: HdfsFileStatus) => f.childrenNum === 0;

/**
 * Every data file under <root>/<topic>/dt=…/hour=…/, in path order; other names are skipped.
 * Folders HDFS reports empty are not listed: compaction leaves a raw hour's folder empty, and a
 * year of them would be 8,760 listings per run.
 */
export async function listRawFiles(hdfs: HdfsStore, root: string, topic: string): Promise<RawFile[]> {
  const out: RawFile[] = [];
  for (const d of await hdfs.listIfExists(`${root}/${topic}`)) {
    const dt = parseDayFolder(d.pathSuffix);
    if (dt === undefined || d.type !== 'DIRECTORY' || empty(d)) continue;
    for (const h of await hdfs.list(`${root}/${topic}/${d.pathSuffix}`)) {
      const hour = parseHourFolder(h.pathSuffix);
      if (hour === undefined || h.type !== 'DIRECTORY' || empty(h)) continue;
      out.push(...(await listHourData(hdfs, hourFolder(root, topic, dt, hour), { dt, hour })));
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The data files of the given hours' folders (a missing folder has none), in path order. */
export async function listHoursFiles(
  hdfs: HdfsStore,
  root: string,
  topic: string,
  hours: readonly HourKey[],
): Promise<RawFile[]> {
  const out: RawFile[] = [];
  for (const h of hours) out.push(...(await listHourData(hdfs, hourFolder(root, topic, h.dt, h.hour), h)));
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The data files of hour `h`'s folder `dir` (none when it is missing), temporary ones left out. */
async function listHourData(hdfs: HdfsStore, dir: string, h: HourKey): Promise<RawFile[]> {
  return (await hdfs.listIfExists(dir)).filter(isDataFile).map((f) => ({
    path: `${dir}/${f.pathSuffix}`,
    dt: h.dt,
    hour: h.hour,
    bytes: f.length,
    modifiedAt: f.modificationTime,
  }));
}

/** The data files of one hour folder (none when it is missing), temporary ones left out. */
export async function listHourFiles(hdfs: HdfsStore, dir: string): Promise<string[]> {
  return (await hdfs.listIfExists(dir))
    .filter(isDataFile)
    .map((f) => `${dir}/${f.pathSuffix}`)
    .sort();
}
