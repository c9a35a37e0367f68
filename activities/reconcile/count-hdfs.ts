// The events of one hour in HDFS, each once. A compacted hour with no raw file left is answered
// by its compaction record (written after the merged file was read back and checked, so its count
// is the file's), at the cost of one query; an hour with raw files is read, a range at a time.
import type pg from 'pg';
import type { HdfsStore } from '../../lib/clients/hdfs.ts';
import { type HourKey, hourFolder } from '../../lib/hdfs-layout.ts';
import { isFirstCopy } from '../compact-hour.ts';
import { fileLines } from '../data-file-lines.ts';
import { EventKeySet } from '../event-key-set.ts';
import { listHourFiles } from '../hdfs-files.ts';

export interface HdfsHour {
  events: number;
  /** Raw files still in the hour (none once it is compacted). */
  rawFiles: number;
  compactedFiles: number;
  /** How the count was had: from the compaction's record, or by reading the files. */
  source: 'compaction record' | 'files read' | 'no files';
}

export interface HdfsRoots {
  rawRoot: string;
  compactedRoot: string;
  topic: string;
  rawSchema: string;
}

export async function countHdfsHour(
  hdfs: HdfsStore,
  pool: pg.Pool,
  roots: HdfsRoots,
  h: HourKey,
): Promise<HdfsHour> {
  const raw = await listHourFiles(hdfs, hourFolder(roots.rawRoot, roots.topic, h.dt, h.hour));
  const compacted = await listHourFiles(hdfs, hourFolder(roots.compactedRoot, roots.topic, h.dt, h.hour));
  const files = { rawFiles: raw.length, compactedFiles: compacted.length };
  if (!raw.length && !compacted.length) return { events: 0, ...files, source: 'no files' };
  if (!raw.length && compacted.length === 1) {
    const recorded = await pool.query<{ events: number }>(
      `SELECT events FROM ${roots.rawSchema}.compactions WHERE output = $1 AND inputs_removed`,
      [compacted[0]],
    );
    const events = recorded.rows[0]?.events;
    if (events !== undefined) return { events, ...files, source: 'compaction record' };
  }
  const seen = new EventKeySet();
  for (const path of [...compacted, ...raw]) {
    for await (const chunk of fileLines(hdfs, path))
      for (const line of chunk) if (line) isFirstCopy(seen, line);
  }
  return { events: seen.size, ...files, source: 'files read' };
}
