// The reconciliation ledger: the batch records the report of every hour it touched (compacted or
// loaded) in <raw>.hour_ledger, one row per hour, replaced by each newer check. From it,
// <marts>.pipeline_watermark says up to which instant the marts are complete (every hour before it
// closed and with no drift in PostgreSQL or the marts), for Power BI to show beside the reports.
import type pg from 'pg';
import type { HourReport } from './hour-counts.ts';

export function ledgerDdl(rawSchema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${rawSchema}.hour_ledger (
    hour timestamptz PRIMARY KEY, closed boolean NOT NULL,
    hdfs int NOT NULL, cassandra int NOT NULL, postgres int NOT NULL, marts int NOT NULL,
    dead_letters int NOT NULL, quarantined int NOT NULL,
    drift_cassandra int NOT NULL, drift_postgres int NOT NULL, drift_marts int NOT NULL,
    run_id text, checked_at timestamptz NOT NULL DEFAULT now())`;
}

export function watermarkDdl(martsSchema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${martsSchema}`,
    `CREATE TABLE IF NOT EXISTS ${martsSchema}.pipeline_watermark (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      complete_until timestamptz, last_complete_hour timestamptz,
      run_id text, updated_at timestamptz NOT NULL DEFAULT now())`,
  ];
}

export interface Watermark {
  /** Every event before this instant is in the marts (null: no hour is complete yet). */
  completeUntil: string | null;
}

/** Records the reports and moves the watermark, in one transaction. */
export async function recordLedger(
  pool: pg.Pool,
  schemas: { raw: string; marts: string },
  reports: HourReport[],
  runId: string,
): Promise<Watermark> {
  const client = await pool.connect();
  try {
    for (const ddl of watermarkDdl(schemas.marts)) await client.query(ddl);
    await client.query('BEGIN');
    for (const r of reports) {
      const c = r.counts;
      await client.query(
        `INSERT INTO ${schemas.raw}.hour_ledger AS l (hour, closed, hdfs, cassandra, postgres, marts, dead_letters,
           quarantined, drift_cassandra, drift_postgres, drift_marts, run_id, checked_at)
         VALUES (($1 || ':00:00Z')::timestamptz, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
         ON CONFLICT (hour) DO UPDATE SET closed = EXCLUDED.closed, hdfs = EXCLUDED.hdfs,
           cassandra = EXCLUDED.cassandra, postgres = EXCLUDED.postgres, marts = EXCLUDED.marts,
           dead_letters = EXCLUDED.dead_letters, quarantined = EXCLUDED.quarantined,
           drift_cassandra = EXCLUDED.drift_cassandra, drift_postgres = EXCLUDED.drift_postgres,
           drift_marts = EXCLUDED.drift_marts, run_id = EXCLUDED.run_id, checked_at = now()`,
        [
          r.hour,
          r.closed,
          c.hdfs,
          c.cassandra,
          c.postgres,
          c.marts,
          c.dead_letters,
          c.quarantined,
          r.drift.cassandra,
          r.drift.postgres,
          r.drift.marts,
          runId,
        ],
      );
    }
    // Complete: the closed hours before the first hour that is open or drifts in the warehouse.
    const mark = await client.query<{ last: Date | null }>(
      `WITH first_gap AS (
         SELECT min(hour) AS at FROM ${schemas.raw}.hour_ledger
         WHERE NOT closed OR drift_postgres <> 0 OR drift_marts <> 0)
       SELECT max(l.hour) AS last FROM ${schemas.raw}.hour_ledger l, first_gap g
       WHERE l.closed AND (g.at IS NULL OR l.hour < g.at)`,
    );
    const last = mark.rows[0]?.last ?? null;
    await client.query(
      `INSERT INTO ${schemas.marts}.pipeline_watermark (id, complete_until, last_complete_hour, run_id, updated_at)
       VALUES (true, $1::timestamptz + interval '1 hour', $1::timestamptz, $2, now())
       ON CONFLICT (id) DO UPDATE SET complete_until = EXCLUDED.complete_until,
         last_complete_hour = EXCLUDED.last_complete_hour, run_id = EXCLUDED.run_id, updated_at = now()`,
      [last, runId],
    );
    await client.query('COMMIT');
    return { completeUntil: last ? new Date(last.getTime() + 3_600_000).toISOString() : null };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
