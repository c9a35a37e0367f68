// Lake files in HDFS, written and read a row group at a time (hyparquet-writer and hyparquet, pure
// JavaScript; zstd from @bokuweb/zstd-wasm, WebAssembly: nothing to compile on install). A writer
// hands each finished row group to HDFS (one create, then appends) before it encodes the next; a
// reader fetches one row group's column chunks by byte range. Memory holds one row group, never
// the hour.
import { compress, decompress, init } from '@bokuweb/zstd-wasm';
import { type AsyncBuffer, type FileMetaData, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { ByteWriter, parquetWriteRows } from 'hyparquet-writer';
import type { HdfsStore } from '../../lib/clients/hdfs.ts';
import { type LakeRow, lakeColumns, lakeSchema } from './lake-columns.ts';

/** Rows per row group: about 15 MiB of lines, and the writer's peak memory with them (measured). */
export const ROW_GROUP_ROWS = 25_000;
/** zstd level 3, its default: about a quarter of the NDJSON's size on a measured hour. */
const ZSTD_LEVEL = 3;

let ready: Promise<void> | undefined;
const zstd = () => {
  ready ??= init();
  return ready;
};

/** Bytes the writer produced, handed on at each flush (after every row group, and the footer). */
class HdfsSink extends ByteWriter {
  written = 0;
  private created = false;

  constructor(
    private readonly hdfs: HdfsStore,
    private readonly path: string,
  ) {
    super();
  }

  flush(): Promise<void> {
    const bytes = Buffer.from(this.buffer.slice(0, this.index));
    this.index = 0;
    this.written += bytes.length;
    const first = !this.created;
    this.created = true;
    return first ? this.hdfs.writeFile(this.path, bytes) : this.hdfs.appendFile(this.path, bytes);
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

/** Writes `rows` as one Parquet file at `path` (created or overwritten); its size in bytes. */
export async function writeLakeFile(
  hdfs: HdfsStore,
  path: string,
  rows: AsyncIterable<LakeRow>,
  rowGroupRows = ROW_GROUP_ROWS,
): Promise<number> {
  await zstd();
  const sink = new HdfsSink(hdfs, path);
  await parquetWriteRows({
    writer: sink,
    schema: lakeSchema(),
    columns: lakeColumns().map((name) => ({ name })),
    rows,
    rowGroupSize: rowGroupRows,
    codec: 'ZSTD',
    compressors: { ZSTD: (b: Uint8Array) => compress(b, ZSTD_LEVEL) },
    kvMetadata: [{ key: 'logpipe.format', value: 'lake-hour/1' }],
  });
  return sink.written;
}

/** A file in HDFS as hyparquet's byte source: every slice is one ranged read. */
function hdfsBuffer(hdfs: HdfsStore, path: string, length: number): AsyncBuffer {
  return {
    byteLength: length,
    async slice(start: number, end = length) {
      const b = await hdfs.readRange(path, start, end - start);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

async function open(hdfs: HdfsStore, path: string): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
  const status = await hdfs.stat(path);
  if (!status) throw new Error(`HDFS file ${path} not found`);
  const file = hdfsBuffer(hdfs, path, status.length);
  return { file, metadata: await parquetMetadataAsync(file) };
}

const codecs = { ZSTD: (b: Uint8Array) => decompress(b) };

/** Rows of a lake file, from its footer (one read of its tail). */
export async function lakeFileRows(hdfs: HdfsStore, path: string): Promise<number> {
  return Number((await open(hdfs, path)).metadata.num_rows);
}

/** The `raw` column (the lines as they came) a row group at a time, in order. */
export async function* lakeFileLines(hdfs: HdfsStore, path: string): AsyncGenerator<string[]> {
  await zstd();
  const { file, metadata } = await open(hdfs, path);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const lines: string[] = [];
    await parquetRead({
      file,
      metadata,
      columns: ['raw'],
      rowStart,
      rowEnd,
      compressors: codecs,
      onChunk: ({ columnData }) => {
        for (const v of columnData) lines.push(String(v));
      },
    });
    rowStart = rowEnd;
    yield lines;
  }
}
