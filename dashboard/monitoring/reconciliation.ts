// The reconciliation ledger the batch records (<raw>.hour_ledger, <marts>.pipeline_watermark; see
// activities/reconcile/ledger.ts): per event hour the events in each store and their drift against
// HDFS, and the marts' watermark. Read, not recounted: one indexed query however large the stores.
import type pg from 'pg';
import type { Config } from '../../lib/config.ts';
import { errorField } from '../../lib/errors.ts';
import type { ReconcileAnswer } from '../api-types.ts';

const UNDEFINED_TABLE = '42P01';

export async function reconciliation(config: Config, pool: pg.Pool, limit: number): Promise<ReconcileAnswer> {
  const raw = config.WAREHOUSE_RAW_SCHEMA;
  try {
    const rows = await pool.query<Record<string, unknown>>(
      `SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour, closed, hdfs, cassandra, postgres,
         marts, dead_letters, quarantined, drift_cassandra, drift_postgres, drift_marts, checked_at
       FROM ${raw}.hour_ledger ORDER BY hour DESC LIMIT $1`,
      [limit],
    );
    const mark = await pool
      .query<{ complete_until: Date | null }>(
        `SELECT complete_until FROM ${config.WAREHOUSE_SCHEMA}.pipeline_watermark WHERE id`,
      )
      .catch((err) => {
        if (errorField(err, 'code') === UNDEFINED_TABLE) return { rows: [] };
        throw err;
      });
    const n = (v: unknown) => Number(v);
    return {
      hours: rows.rows.map((r) => ({
        hour: String(r.hour),
        closed: Boolean(r.closed),
        counts: {
          hdfs: n(r.hdfs),
          cassandra: n(r.cassandra),
          postgres: n(r.postgres),
          marts: n(r.marts),
          dead_letters: n(r.dead_letters),
          quarantined: n(r.quarantined),
        },
        drift: { cassandra: n(r.drift_cassandra), postgres: n(r.drift_postgres), marts: n(r.drift_marts) },
        checkedAt: (r.checked_at as Date).toISOString(),
      })),
      watermark: { completeUntil: mark.rows[0]?.complete_until?.toISOString() ?? null },
    };
  } catch (err) {
    // No batch run has recorded a ledger yet.
    if (errorField(err, 'code') === UNDEFINED_TABLE) return { hours: [], watermark: { completeUntil: null } };
    throw err;
  }
}
