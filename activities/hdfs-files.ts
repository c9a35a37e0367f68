// Lists the streaming worker's raw files in HDFS, by hour folder.
import type { Hdfs } from '../lib/clients/hdfs.ts';

export interface RawFile {
  path: string;
  dt: string;
  hour: number;
  bytes: number;
  modifiedAt: number;
}

/** Every NDJSON file under <root>/<topic>/dt=…/hour=…/ (names starting with _ are temporary). */
export async function listRawFiles(hdfs: Hdfs, root: string, topic: string): Promise<RawFile[]> {
  const base = `${root}/${topic}`;
  const out: RawFile[] = [];
  const days = await hdfs.listIfExists(base);
  for (const d of days) {
    const dm = /^dt=(\d{4}-\d{2}-\d{2})$/.exec(d.pathSuffix);
    if (!dm || d.type !== 'DIRECTORY') continue;
    for (const h of await hdfs.list(`${base}/${d.pathSuffix}`)) {
      const hm = /^hour=(\d{2})$/.exec(h.pathSuffix);
      if (!hm || h.type !== 'DIRECTORY') continue;
      for (const f of await hdfs.list(`${base}/${d.pathSuffix}/${h.pathSuffix}`)) {
        if (f.type !== 'FILE' || !f.pathSuffix.endsWith('.ndjson') || f.pathSuffix.startsWith('_')) continue;
        out.push({
          path: `${base}/${d.pathSuffix}/${h.pathSuffix}/${f.pathSuffix}`,
          dt: dm[1] as string,
          hour: Number(hm[1]),
          bytes: f.length,
          modifiedAt: f.modificationTime,
        });
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The NDJSON files of one hour folder (none when it is missing), temporary ones left out. */
export async function listHourFiles(hdfs: Hdfs, dir: string): Promise<string[]> {
  const listed = await hdfs.listIfExists(dir);
  return listed
    .filter((f) => f.type === 'FILE' && f.pathSuffix.endsWith('.ndjson') && !f.pathSuffix.startsWith('_'))
    .map((f) => `${dir}/${f.pathSuffix}`)
    .sort();
}
