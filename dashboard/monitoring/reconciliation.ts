// The reconciliation ledger the batch records (activities/reconcile/ledger.ts): per event hour the
// events in each store and their drift against HDFS, and the marts' watermark. Read from the
// ledger, not recounted: the page costs one indexed query however large the stores are.
import type pg from 'pg';
import { readLedger } from '../../activities/reconcile/ledger.ts';
import type { Config } from '../../lib/config.ts';
import { errorField } from '../../lib/errors.ts';
import type { ReconcileAnswer } from '../api-types.ts';

const UNDEFINED_TABLE = '42P01';

export async function reconciliation(config: Config, pool: pg.Pool, limit: number): Promise<ReconcileAnswer> {
  try {
    return await readLedger(
      pool,
      { raw: config.WAREHOUSE_RAW_SCHEMA, marts: config.WAREHOUSE_SCHEMA },
      limit,
    );
  } catch (err) {
    // No batch run has recorded a ledger yet.
    if (errorField(err, 'code') === UNDEFINED_TABLE) return { hours: [], watermark: { completeUntil: null } };
    throw err;
  }
}
