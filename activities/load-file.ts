// Loads one HDFS file into the raw tables exactly once: its rows, its quarantined lines and its
// manifest entry commit in one transaction, and an advisory lock on the path serialises a retried
// load with one still running. A file already in the manifest is skipped. Rows are COPYed
// (pg-copy-streams) straight into each table; when a row is already there (a replayed or
// re-compacted file) the COPY fails and is rolled back to a savepoint, and the rows go through a
// staging table and INSERT … ON CONFLICT (event_id) DO NOTHING instead.
// A row PostgreSQL refuses for what it holds (a data exception, a limit, a constraint) is found by
// the line number in the COPY's error, moved to raw.rejected_lines, and the COPY is done again
// without it: one bad line never fails a file, a run, or the runs after it.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { textChunks } from '../lib/clients/hdfs-lines.ts';
import { errorField, errorMessage } from '../lib/errors.ts';
import type { EventType } from '../lib/events/enums.ts';
import type { PreparedChunk } from './lake/parquet-file.ts';
import { type CopyRow, type RefusedLine, splitChunk, splitPrepared } from './rows.ts';
import { columnsOf, TABLE_OF, warehouseLock } from './warehouse-schema.ts';

export interface FileLoad {
  path: string;
  kind: 'raw' | 'compacted';
  dt: string;
  hour: number;
  /** The file's size when it was listed (groups loads by size). */
  bytes?: number;
}

export interface FileLoadResult {
  path: string;
  skipped: boolean;
  /** The raw file was gone: compacted away by an overlapping run after it was listed. */
  vanished?: boolean;
  lines: number;
  inserted: number;
  duplicate: number;
  /** Lines quarantined in raw.rejected_lines (the contract's and PostgreSQL's refusals). */
  rejected: number;
  perTable: Record<string, number>;
}

/**
 * The file's lines in chunks, from the start, each time it is called (a retry reads again); a lake
 * file's chunks come prepared (checked and converted by compaction, see data-file-lines.ts).
 */
export type LineSource = () => AsyncIterable<string[] | PreparedChunk>;

/** Loads a file whose whole text is at hand (tests, benches, small files). */
export function loadFileText(
  pool: pg.Pool,
  RAW_SCHEMA: string,
  file: FileLoad,
  text: string,
  runId: string,
): Promise<FileLoadResult> {
  return loadFile(pool, RAW_SCHEMA, file, () => textChunks(text), runId);
}

/**
 * Loads a file a chunk of lines at a time (see lib/clients/hdfs-lines.ts), all in one transaction:
 * the memory held is one chunk, whatever the file's size. A file the manifest lists is skipped
 * without being read.
 */
export async function loadFile(
  pool: pg.Pool,
  RAW_SCHEMA: string,
  file: FileLoad,
  source: LineSource,
  runId: string,
): Promise<FileLoadResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [file.path]);
    await client.query('SELECT pg_advisory_xact_lock_shared(hashtext($1))', [warehouseLock(RAW_SCHEMA)]);
    const done = await client.query(`SELECT 1 FROM ${RAW_SCHEMA}.load_manifest WHERE path = $1`, [file.path]);
    if (done.rowCount) {
      await client.query('ROLLBACK');
      return {
        path: file.path,
        skipped: true,
        lines: 0,
        inserted: 0,
        duplicate: 0,
        rejected: 0,
        perTable: {},
      };
    }
    const perTable: Record<string, number> = {};
    let inserted = 0;
    let lines = 0;
    let rejected = 0;
    let nextLineNo = 1;
    for await (const chunk of source()) {
      const firstLineNo = nextLineNo;
      nextLineNo += Array.isArray(chunk) ? chunk.length : chunk.csv.length;
      // Each row ends with the load's own columns: _source_file, _run_id.
      const extra = [file.path, runId];
      const split = Array.isArray(chunk)
        ? await splitChunk(chunk, firstLineNo, extra)
        : splitPrepared(chunk, firstLineNo, extra);
      lines += split.lines;
      const refused: RefusedLine[] = [...split.refused];
      for (const [type, rows] of Object.entries(split.csv) as [EventType, CopyRow[]][]) {
        if (!rows.length) continue;
        const table = TABLE_OF[type];
        const n = await copyRows(
          client,
          RAW_SCHEMA,
          table,
          columnsOf(type),
          rows,
          split.tail,
          split.lineNos[type],
          refused,
        );
        perTable[table] = (perTable[table] ?? 0) + n;
        inserted += n;
      }
      if (refused.length) {
        const at = refused.map((r) => r.lineNo - firstLineNo);
        const texts = Array.isArray(chunk) ? at.map((i) => chunk[i] ?? '') : await chunk.lines(at);
        await quarantine(client, RAW_SCHEMA, file.path, texts, refused, runId);
      }
      rejected += refused.length;
    }
    const duplicate = lines - rejected - inserted;
    await client.query(
      `INSERT INTO ${RAW_SCHEMA}.load_manifest (path, kind, dt, hour, lines, rows_inserted, rows_duplicate, rows_rejected, run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [file.path, file.kind, file.dt, file.hour, lines, inserted, duplicate, rejected, runId],
    );
    await client.query('COMMIT');
    return { path: file.path, skipped: false, lines, inserted, duplicate, rejected, perTable };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** The refused lines of a chunk (`texts`, refused row for row) with their bytes, in the load's transaction. */
async function quarantine(
  client: pg.PoolClient,
  RAW_SCHEMA: string,
  path: string,
  texts: string[],
  refused: RefusedLine[],
  runId: string,
): Promise<void> {
  for (const [i, r] of refused.entries()) {
    const line = Buffer.from(texts[i] ?? '', 'utf8');
    await client.query(
      `INSERT INTO ${RAW_SCHEMA}.rejected_lines (path, line_no, stage, error, bytes, line, run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (path, line_no) DO NOTHING`,
      [path, r.lineNo, r.stage, r.error.replaceAll('\u0000', '\\0').slice(0, 2000), line.length, line, runId],
    );
  }
}

const UNIQUE_VIOLATION = '23505';

/** About this many bytes per CopyData message: a few socket writes per COPY, not two per row. */
export const COPY_MESSAGE_BYTES = 256 << 10;

/**
 * Rows, each followed by `tail`, joined into messages of about COPY_MESSAGE_BYTES (PostgreSQL
 * numbers the rows the same). A lake file's rows are bytes: they are copied into the message as
 * they are, not decoded and encoded again.
 */
export function* copyMessages(
  rows: readonly CopyRow[],
  tail: string,
  bytes = COPY_MESSAGE_BYTES,
): Generator<Buffer> {
  const tailBytes = Buffer.from(tail, 'utf8');
  let from = 0;
  let size = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as CopyRow;
    size += (typeof row === 'string' ? Buffer.byteLength(row, 'utf8') : row.length) + tailBytes.length;
    if (size >= bytes || i === rows.length - 1) {
      const message = Buffer.allocUnsafe(size);
      let at = 0;
      for (let j = from; j <= i; j++) {
        const r = rows[j] as CopyRow;
        if (typeof r === 'string') at += message.write(r, at, 'utf8');
        else {
          message.set(r, at);
          at += r.length;
        }
        message.set(tailBytes, at);
        at += tailBytes.length;
      }
      yield message;
      from = i + 1;
      size = 0;
    }
  }
}

/**
 * Whether PostgreSQL refused a row of a COPY for what it holds, and which (0-based): data
 * exceptions (class 22: out of range, invalid text, impossible dates), program limits (class 54:
 * an index row too large) and integrity violations other than a duplicate key (class 23). The row
 * is the line number of the error's COPY context ("COPY search_response, line 3, column …").
 */
export function refusedRow(err: unknown, rows: number): number | undefined {
  const code = errorField(err, 'code');
  if (!code || code === UNIQUE_VIOLATION || !/^(22|23|54)/.test(code)) return undefined;
  const m = /COPY [^,]+, line (\d+)/.exec(errorField(err, 'where') ?? '');
  const line = m ? Number(m[1]) : Number.NaN;
  return line >= 1 && line <= rows ? line - 1 : undefined;
}

/**
 * COPYs rows into `target`, each refused row moved to `refused` and the COPY done again without it.
 * Returns the rows in the COPY, or throws the duplicate key error when a row is already loaded.
 */
async function copyRefusing(
  client: pg.PoolClient,
  sql: string,
  rows: CopyRow[],
  tail: string,
  lineNos: number[],
  refused: RefusedLine[],
): Promise<number> {
  for (;;) {
    if (!rows.length) return 0;
    await client.query('SAVEPOINT copy_rows');
    try {
      await pipeline(Readable.from(copyMessages(rows, tail)), client.query(copyFrom(sql)));
      await client.query('RELEASE SAVEPOINT copy_rows');
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT copy_rows');
      const row = refusedRow(err, rows.length);
      if (row === undefined) throw err;
      const error = `${errorField(err, 'code')}: ${errorMessage(err)}`;
      refused.push({ lineNo: lineNos[row] as number, stage: 'postgres', error });
      rows.splice(row, 1);
      lineNos.splice(row, 1);
    }
  }
}

/** Inserts CSV rows (the type's columns, then `tail`: _source_file and _run_id); returns the rows added. */
async function copyRows(
  client: pg.PoolClient,
  RAW_SCHEMA: string,
  table: string,
  columns: string[],
  rows: CopyRow[],
  tail: string,
  lineNos: number[],
  refused: RefusedLine[],
): Promise<number> {
  const cols = [...columns, '_source_file', '_run_id'].map((c) => `"${c}"`).join(', ');
  const copy = (into: string) => `COPY ${into} (${cols}) FROM STDIN WITH (FORMAT csv)`;
  try {
    return await copyRefusing(client, copy(`${RAW_SCHEMA}.${table}`), rows, tail, lineNos, refused);
  } catch (err) {
    if (errorField(err, 'code') !== UNIQUE_VIOLATION) throw err;
  }
  // Some rows are loaded already: stage them and keep only the new ones.
  const stage = `stage_${table}`;
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${stage} AS SELECT ${cols} FROM ${RAW_SCHEMA}.${table} WITH NO DATA`,
  );
  await client.query(`TRUNCATE ${stage}`);
  await copyRefusing(client, copy(stage), rows, tail, lineNos, refused);
  const res = await client.query(
    `INSERT INTO ${RAW_SCHEMA}.${table} (${cols}) SELECT ${cols} FROM ${stage} ON CONFLICT (event_id) DO NOTHING`,
  );
  return res.rowCount ?? 0;
}
