// Which hours of the lake (the compacted root) can hold a file the warehouse has not loaded: the
// hours of compactions whose output the manifest lacks, and of files a whole-lake scan found that
// it lacks. A run lists those hours, not the lake. The scans are recorded per lake (root and
// topic) in the raw schema: a warehouse scans a lake once, and again when asked (`rescanLake`).
import type pg from 'pg';
import type { HourKey } from '../lib/hdfs-layout.ts';
import type { FileLoad } from './load-file.ts';

export interface DiscoverOptions {
  /** List the whole lake for files the manifest lacks (after restoring a warehouse, say). */
  rescanLake?: boolean;
}

export interface DiscoveredFiles {
  /** Data files listed (loaded or not). */
  found: number;
  /** Those the manifest lacks, to load. */
  files: FileLoad[];
  /** Whether the whole lake was listed. */
  lakeScan: boolean;
}

export function lakeScanDdl(schema: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${schema}.lake_scans (
      lake text PRIMARY KEY, scanned_at timestamptz NOT NULL DEFAULT now(), files_unloaded int NOT NULL)`,
    // What a scan found unloaded; a row goes once its file is in the manifest.
    `CREATE TABLE IF NOT EXISTS ${schema}.lake_files_found (
      path text PRIMARY KEY, lake text NOT NULL, dt date NOT NULL, hour int NOT NULL,
      found_at timestamptz NOT NULL DEFAULT now())`,
  ];
}

/**
 * Records a whole-lake scan and the compacted files it found unloaded, in one statement (so in
 * one transaction): a crash before it commits leaves no scan, and the next run scans again.
 */
export async function recordLakeScan(
  pool: pg.Pool,
  schema: string,
  lake: string,
  unloaded: readonly FileLoad[],
): Promise<void> {
  await pool.query(
    `WITH found AS (
       INSERT INTO ${schema}.lake_files_found (path, lake, dt, hour)
       SELECT path, $1, dt, hour FROM unnest($2::text[], $3::date[], $4::int[]) AS u(path, dt, hour)
       ON CONFLICT (path) DO NOTHING)
     INSERT INTO ${schema}.lake_scans (lake, files_unloaded) VALUES ($1, $5)
     ON CONFLICT (lake) DO UPDATE SET scanned_at = now(), files_unloaded = EXCLUDED.files_unloaded`,
    [
      lake,
      unloaded.map((f) => f.path),
      unloaded.map((f) => f.dt),
      unloaded.map((f) => f.hour),
      unloaded.length,
    ],
  );
}

/**
 * The hours to list for unloaded compacted files of `lake`, in order. Found files already loaded
 * are forgotten first. A compaction's output path starts with the lake's own folder.
 */
export async function unloadedLakeHours(pool: pg.Pool, schema: string, lake: string): Promise<HourKey[]> {
  await pool.query(
    `DELETE FROM ${schema}.lake_files_found f
     WHERE EXISTS (SELECT 1 FROM ${schema}.load_manifest m WHERE m.path = f.path)`,
  );
  const res = await pool.query<{ dt: string; hour: number }>(
    `SELECT DISTINCT to_char(dt, 'YYYY-MM-DD') AS dt, hour FROM (
       SELECT c.dt, c.hour FROM ${schema}.compactions c
       WHERE starts_with(c.output, $1 || '/')
         AND NOT EXISTS (SELECT 1 FROM ${schema}.load_manifest m WHERE m.path = c.output)
         -- an output merged into a later compaction is not looked for: its rows are in that one
         AND NOT EXISTS (SELECT 1 FROM ${schema}.compactions n WHERE c.output = ANY (n.inputs))
       UNION ALL
       SELECT f.dt, f.hour FROM ${schema}.lake_files_found f WHERE f.lake = $1
     ) h ORDER BY 1, 2`,
    [lake],
  );
  return res.rows;
}
