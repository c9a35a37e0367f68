// Loads one HDFS file into the raw tables exactly once: its rows and its manifest entry commit in
// one transaction, and an advisory lock on the path serialises a retried load with one still
// running. A file already in the manifest is skipped. Rows are COPYed (pg-copy-streams) straight
// into each table; when a row is already there (a replayed or re-compacted file) the COPY fails
// and is rolled back to a savepoint, and the rows go through a staging table and
// INSERT … ON CONFLICT (event_id) DO NOTHING instead.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventType } from '../lib/events/schema.ts';
import { splitLines } from './rows.ts';
import { columnsOf, TABLE_OF, warehouseLock } from './warehouse-schema.ts';

export interface FileLoad {
  path: string;
  kind: 'raw' | 'compacted';
  dt: string;
  hour: number;
}

export interface FileLoadResult {
  path: string;
  skipped: boolean;
  lines: number;
  inserted: number;
  duplicate: number;
  rejected: number;
  perTable: Record<string, number>;
}

export async function loadFileText(
  pool: pg.Pool,
  RAW_SCHEMA: string,
  file: FileLoad,
  text: string,
  runId: string,
): Promise<FileLoadResult> {
  // Each row ends with the load's own columns: _source_file, _run_id.
  const split = await splitLines(text, [file.path, runId]);
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
        lines: split.lines,
        inserted: 0,
        duplicate: 0,
        rejected: 0,
        perTable: {},
      };
    }
    const perTable: Record<string, number> = {};
    let inserted = 0;
    for (const [type, rows] of Object.entries(split.csv) as [EventType, string[]][]) {
      if (!rows.length) continue;
      const table = TABLE_OF[type];
      const n = await copyRows(client, RAW_SCHEMA, table, columnsOf(type), rows);
      perTable[table] = n;
      inserted += n;
    }
    await client.query(
      `INSERT INTO ${RAW_SCHEMA}.load_manifest (path, kind, dt, hour, lines, rows_inserted, rows_duplicate, rows_rejected, run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        file.path,
        file.kind,
        file.dt,
        file.hour,
        split.lines,
        inserted,
        split.lines - split.rejected - inserted,
        split.rejected,
        runId,
      ],
    );
    await client.query('COMMIT');
    return {
      path: file.path,
      skipped: false,
      lines: split.lines,
      inserted,
      duplicate: split.lines - split.rejected - inserted,
      rejected: split.rejected,
      perTable,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

const UNIQUE_VIOLATION = '23505';

/** Inserts CSV rows (the type's columns, then _source_file and _run_id); returns the rows added. */
async function copyRows(
  client: pg.PoolClient,
  RAW_SCHEMA: string,
  table: string,
  columns: string[],
  rows: string[],
): Promise<number> {
  const cols = [...columns, '_source_file', '_run_id'].map((c) => `"${c}"`).join(', ');
  await client.query('SAVEPOINT direct_copy');
  try {
    await pipeline(
      Readable.from(rows),
      client.query(copyFrom(`COPY ${RAW_SCHEMA}.${table} (${cols}) FROM STDIN WITH (FORMAT csv)`)),
    );
    await client.query('RELEASE SAVEPOINT direct_copy');
    return rows.length;
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    await client.query('ROLLBACK TO SAVEPOINT direct_copy');
  }
  // Some rows are loaded already: stage them and keep only the new ones.
  const stage = `stage_${table}`;
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${stage} AS SELECT ${cols} FROM ${RAW_SCHEMA}.${table} WITH NO DATA`,
  );
  await client.query(`TRUNCATE ${stage}`);
  await pipeline(
    Readable.from(rows),
    client.query(copyFrom(`COPY ${stage} (${cols}) FROM STDIN WITH (FORMAT csv)`)),
  );
  const res = await client.query(
    `INSERT INTO ${RAW_SCHEMA}.${table} (${cols}) SELECT ${cols} FROM ${stage} ON CONFLICT (event_id) DO NOTHING`,
  );
  return res.rowCount ?? 0;
}
