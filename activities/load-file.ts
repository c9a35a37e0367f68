// Loads one HDFS file into the raw tables exactly once: its rows and its manifest entry commit in
// one transaction, rows are COPYed (pg-copy-streams) into a staging table and inserted with
// ON CONFLICT (event_id) DO NOTHING, and an advisory lock on the path serialises a retried load
// with one still running. A file already in the manifest is skipped.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventType } from '../lib/events/schema.ts';
import { splitLines } from './rows.ts';
import { columnsOf, TABLE_OF } from './warehouse-schema.ts';

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
  const split = splitLines(text);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [file.path]);
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
      const cols = columnsOf(type)
        .map((c) => `"${c}"`)
        .join(', ');
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
        `INSERT INTO ${RAW_SCHEMA}.${table} (${cols}, _source_file, _run_id) SELECT ${cols}, $1, $2 FROM ${stage} ON CONFLICT (event_id) DO NOTHING`,
        [file.path, runId],
      );
      perTable[table] = res.rowCount ?? 0;
      inserted += res.rowCount ?? 0;
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
