// Lists the data files in HDFS (raw or compacted), by hour folder (layout: lib/hdfs-layout.ts).
import type { HdfsStore } from '../lib/clients/hdfs.ts';
import { hourFolder, isDataFileName, parseDayFolder, parseHourFolder } from '../lib/hdfs-layout.ts';

export interface RawFile {
  path: string;
  dt: string;
  hour: number;
  bytes: number;
  modifiedAt: number;
}

/** Every data file under <root>/<topic>/dt=…/hour=…/, in path order; other names are skipped. */
export async function listRawFiles(hdfs: HdfsStore, root: string, topic: string): Promise<RawFile[]> {
  const out: RawFile[] = [];
  for (const d of await hdfs.listIfExists(`${root}/${topic}`)) {
    const dt = parseDayFolder(d.pathSuffix);
    if (dt === undefined || d.type !== 'DIRECTORY') continue;
    for (const h of await hdfs.list(`${root}/${topic}/${d.pathSuffix}`)) {
      const hour = parseHourFolder(h.pathSuffix);
      if (hour === undefined || h.type !== 'DIRECTORY') continue;
      const dir = hourFolder(root, topic, dt, hour);
      for (const f of await hdfs.list(dir)) {
        if (f.type !== 'FILE' || !isDataFileName(f.pathSuffix)) continue;
        out.push({
          path: `${dir}/${f.pathSuffix}`,
          dt,
          hour,
          bytes: f.length,
          modifiedAt: f.modificationTime,
        });
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The data files of one hour folder (none when it is missing), temporary ones left out. */
export async function listHourFiles(hdfs: HdfsStore, dir: string): Promise<string[]> {
  const listed = await hdfs.listIfExists(dir);
  return listed
    .filter((f) => f.type === 'FILE' && isDataFileName(f.pathSuffix))
    .map((f) => `${dir}/${f.pathSuffix}`)
    .sort();
}
