// The marts' dbt unit tests (the unit_tests: of their .yml files, written by hand: line amounts
// shared by quantity, the price version valid at an order's time, the funnel's steps, revenue per
// day), run by real dbt on a throwaway PostgreSQL. The models are built on empty raw tables, so the
// only rows any case sees are its own fixtures.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { schemaDdl } from '../../activities/warehouse-schema.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { batchBuildArgs, failedNodes, invokeDbt } from '../../lib/dbt.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.ts';

const CASES = [
  'error_rates_hourly_adds_new_errors_and_new_totals',
  'error_rates_hourly_counts_errors_per_code_against_the_hour',
  'fact_orders_prices_a_line_with_the_version_valid_at_its_time',
  'fact_orders_shares_the_amount_among_lines_by_quantity',
  'fact_sessions_funnel_steps_need_the_steps_before_them',
  'int_hourly_events_adds_new_events_to_their_hours',
  'revenue_daily_adds_new_lines_to_the_kept_totals',
  'revenue_daily_sums_completed_lines_and_counts_orders_once',
  'session_funnel_daily_counts_steps_and_rates_per_day',
  'session_funnel_daily_moves_sessions_that_got_new_events',
];

describe('dbt unit tests of the marts (real dbt, a throwaway PostgreSQL)', () => {
  let pg: ThrowawayPostgres;
  const dir = mkdtempSync(join(tmpdir(), 'logpipe-dbt-unit-'));
  const paths = { targetPath: join(dir, 'target'), logPath: join(dir, 'logs') };

  before(async () => {
    pg = await startThrowawayPostgres();
    const pool = createPgPool(pg.config);
    try {
      for (const ddl of schemaDdl(pg.config.WAREHOUSE_RAW_SCHEMA)) await pool.query(ddl);
    } finally {
      await pool.end();
    }
  });

  after(async () => {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every hand-written case passes, each before its model is built', async () => {
    // One dbt process: `build` runs a model's unit tests once its parents exist, then the model.
    const res = await invokeDbt(pg.config, ['build', '--exclude-resource-type', 'test'], paths);
    assert.deepEqual(failedNodes(res.results), [], res.tail);
    assert.equal(res.exitCode, 0, res.tail);
    const cases = res.results.filter((r) => r.resourceType === 'unit_test');
    assert.deepEqual(cases.map((r) => r.uniqueId.split('.').at(-1)).sort(), CASES);
    for (const c of cases) assert.equal(c.status, 'pass', `${c.uniqueId}: ${c.message}`);
  });
});

describe("the batch's dbt build", () => {
  it('leaves the unit tests out, and the snapshot unless the catalog changed', () => {
    assert.deepEqual(batchBuildArgs(true), ['build', '--exclude-resource-type', 'unit_test']);
    assert.deepEqual(batchBuildArgs(false), ['build', '--exclude-resource-type', 'unit_test', 'snapshot']);
  });
});
