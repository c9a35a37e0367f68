// Lake files in HDFS, written and read a row group at a time (hyparquet-writer and hyparquet, pure
// JavaScript; zstd from @bokuweb/zstd-wasm, WebAssembly: nothing to compile on install). A writer
// hands each finished row group to HDFS (one create, then appends) before it encodes the next; a
// reader fetches one row group's column chunks by byte range. Memory holds one row group, never
// the hour.
import { compress, decompress, init } from '@bokuweb/zstd-wasm';
import { type AsyncBuffer, type FileMetaData, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { ByteWriter, parquetWriteRows } from 'hyparquet-writer';
import type { HdfsStore } from '../../lib/clients/hdfs.ts';
import { EVENT_TYPES, type EventType } from '../../lib/events/enums.ts';
import { type LakeRow, lakeColumns, lakeSchema, rawTableCsvLayout } from './lake-columns.ts';

/** Rows per row group: about 15 MiB of lines, and the writer's peak memory with them (measured). */
export const ROW_GROUP_ROWS = 25_000;
/** The footer entry naming the layout of the file's raw_table_csv column (lake-columns.ts). */
const RAW_TABLE_CSV_LAYOUT_KEY = 'logpipe.raw_table_csv';
/**
 * Columns written without min/max statistics: whole lines and CSV rows say nothing a reader could
 * skip a row group by, and the writer keeps every row group's bounds until the footer. A bound of
 * `raw` is a slice of the chunk its line was read from, so it held each ~2 MiB input chunk alive:
 * 64 of them (123 MiB of heap) at the 30th of 32 row groups of an 800,000-event hour, measured.
 */
const UNSTATED_COLUMNS = new Set(['raw', 'raw_table_csv']);
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
    columns: lakeColumns().map((name) => ({ name, statistics: !UNSTATED_COLUMNS.has(name) })),
    rows,
    rowGroupSize: rowGroupRows,
    codec: 'ZSTD',
    compressors: { ZSTD: (b: Uint8Array) => compress(b, ZSTD_LEVEL) },
    kvMetadata: [
      { key: 'logpipe.format', value: 'lake-hour/1' },
      { key: RAW_TABLE_CSV_LAYOUT_KEY, value: rawTableCsvLayout() },
    ],
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
  for await (const chunk of lakeFileLineBytes(hdfs, path)) yield chunk.map((b) => utf8.decode(b));
}

/** The `raw` column as each line's UTF-8 bytes, a row group at a time: nothing decoded. */
export async function* lakeFileLineBytes(hdfs: HdfsStore, path: string): AsyncGenerator<Uint8Array[]> {
  await zstd();
  const { file, metadata } = await open(hdfs, path);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const cols = await readColumns(file, metadata, ['raw'], rowStart, rowEnd, true);
    rowStart = rowEnd;
    yield cols.get('raw') as Uint8Array[];
  }
}

/**
 * A row group of a lake file as the load takes it: each row's type, id, raw-table CSV row and
 * contract error, checked when the hour was compacted. The line itself (for the quarantine of a row
 * PostgreSQL refuses) is read only when asked for.
 */
export interface PreparedChunk {
  /** Each row's event type; null when it is not one of the contract's (the row is refused). */
  types: (EventType | null)[];
  /** The rows' CSV as the file holds it (UTF-8 bytes): COPYed as they are. */
  csv: (Uint8Array | null)[];
  errors: (string | null)[];
  /** The lines of the rows at these indexes of the chunk. */
  lines(indexes: number[]): Promise<string[]>;
}

// Not event_id: compaction kept one row per type and id, so the load has no repeat to drop in a
// lake file (and a duplicate key would still go through the staging path). Reading and decoding
// the ids, and a set of them per chunk, was a fifth of the load's own CPU (V8 profile, bench batch).
const PREPARED_COLUMNS = ['event_type', 'raw_table_csv', 'contract_error'] as const;

/** The event types' UTF-8 bytes: each type has a length of its own (5, 6, 8, 12, 14). */
const TYPE_BYTES = new Map<number, [Uint8Array, EventType]>(
  EVENT_TYPES.map((t) => [t.length, [new TextEncoder().encode(t), t]]),
);

/** The event type these bytes spell, or null: compared byte for byte, never decoded. */
export function eventTypeOf(bytes: Uint8Array | null | undefined): EventType | null {
  if (bytes == null) return null;
  const candidate = TYPE_BYTES.get(bytes.length);
  if (!candidate) return null;
  const [want, type] = candidate;
  for (let i = 0; i < want.length; i++) if (bytes[i] !== want[i]) return null;
  return type;
}

/** Text columns read as their bytes (views of the row group's pages), for the caller to decode or not. */
const AS_BYTES = { stringFromBytes: (bytes: Uint8Array) => bytes };
const utf8 = new TextDecoder();

/** Reads `columns` of rows [rowStart, rowEnd) as one array per column (text as bytes if `bytes`). */
async function readColumns(
  file: AsyncBuffer,
  metadata: FileMetaData,
  columns: readonly string[],
  rowStart: number,
  rowEnd: number,
  bytes = false,
): Promise<Map<string, unknown[]>> {
  const out = new Map<string, unknown[]>(columns.map((c) => [c, new Array<unknown>(rowEnd - rowStart)]));
  await parquetRead({
    file,
    metadata,
    columns: [...columns],
    rowStart,
    rowEnd,
    compressors: codecs,
    ...(bytes ? { parsers: AS_BYTES } : {}),
    onChunk: ({ columnName, columnData, rowStart: at }) => {
      const target = out.get(columnName);
      if (!target) return;
      // A chunk may start before or run past the asked range.
      for (let i = 0; i < columnData.length; i++) {
        const row = at + i - rowStart;
        if (row >= 0 && row < target.length) target[row] = columnData[i];
      }
    },
  });
  return out;
}

/**
 * The prepared row groups of a lake file, or undefined when its raw_table_csv was written for
 * another layout (or not at all): then the load reads its lines (lakeFileLines).
 */
export async function lakeFilePrepared(
  hdfs: HdfsStore,
  path: string,
): Promise<AsyncGenerator<PreparedChunk> | undefined> {
  await zstd();
  const { file, metadata } = await open(hdfs, path);
  const layout = metadata.key_value_metadata?.find((kv) => kv.key === RAW_TABLE_CSV_LAYOUT_KEY)?.value;
  if (layout !== rawTableCsvLayout()) return undefined;
  return (async function* () {
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const start = rowStart;
      const end = start + Number(group.num_rows);
      rowStart = end;
      const cols = await readColumns(file, metadata, PREPARED_COLUMNS, start, end, true);
      const column = (c: string) => cols.get(c) as (Uint8Array | null | undefined)[];
      const text = (c: string) => column(c).map((v) => (v == null ? null : utf8.decode(v)));
      yield {
        types: column('event_type').map(eventTypeOf),
        csv: column('raw_table_csv') as (Uint8Array | null)[],
        errors: text('contract_error'),
        async lines(indexes: number[]) {
          const out: string[] = [];
          for (const i of indexes) {
            const raw = await readColumns(file, metadata, ['raw'], start + i, start + i + 1);
            out.push(String(raw.get('raw')?.[0] ?? ''));
          }
          return out;
        },
      };
    }
  })();
}
