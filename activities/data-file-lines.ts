// The lines of any data file of an hour, a chunk at a time: an NDJSON file (raw, or compacted by an
// older logpipe) by byte ranges, a lake file (Parquet) by row groups of its `raw` column. Compaction,
// the load and the reconciliation read files through this one door.
import type { HdfsStore } from '../lib/clients/hdfs.ts';
import { lineChunks } from '../lib/clients/hdfs-lines.ts';
import { isParquetName } from '../lib/hdfs-layout.ts';
import { lakeFileLines, lakeFilePrepared, type PreparedChunk } from './lake/parquet-file.ts';

export function fileLines(hdfs: HdfsStore, path: string): AsyncGenerator<string[]> {
  return isParquetName(path) ? lakeFileLines(hdfs, path) : lineChunks(hdfs, path);
}

/**
 * What the load reads of a data file, a chunk at a time: a lake file's prepared rows (checked and
 * converted when the hour was compacted), or the lines of any other file, parsed by the load.
 */
export async function* fileLoadChunks(
  hdfs: HdfsStore,
  path: string,
): AsyncGenerator<string[] | PreparedChunk> {
  const prepared = isParquetName(path) ? await lakeFilePrepared(hdfs, path) : undefined;
  yield* prepared ?? fileLines(hdfs, path);
}
