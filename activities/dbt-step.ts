// The batch's dbt step: one `dbt build` (snapshot, models and tests in one process, in DAG order)
// with the project's profile, its results read from run_results.json. It costs what the new data
// costs: skipped when nothing was loaded and the catalog did not change, the snapshot only when
// the catalog changed, and generic tests of the incremental models restricted to the rows this
// build added (dbt/macros/get_where_subquery.sql reads the running build's row of dbt_builds),
// with every row tested every DBT_FULL_TESTS_EVERY_MINUTES. Each workflow run gets its own folder
// under the data dir with dbt.log and the build's run_results.json, kept for a week; failing models and tests are
// named in the error so the run's failure says what broke.
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Config } from '../lib/config.ts';
import { batchBuildArgs, type DbtNodeResult, dbtPython, failedNodes, invokeDbt } from '../lib/dbt.ts';
import { DbtServer } from '../lib/dbt-server.ts';
import { FAILURE } from '../temporal/names.ts';
import { TABLE_OF, warehouseLock } from './warehouse-schema.ts';

export interface DbtStepResult {
  /** False when there was nothing to build (see DbtPlan.reason). */
  ran: boolean;
  plan: DbtPlan;
  seconds: number;
  /** Every node dbt ran, with its execution time from run_results.json. */
  nodes: { name: string; type: string; status: string; failures: number | null; seconds: number }[];
  /** Where dbt.log and the run_results.json files of this workflow run are kept. */
  logDir: string;
}

const KEEP_RUN_DIRS_MS = 7 * 86_400_000;
const safeName = (s: string) => s.replaceAll(/[^A-Za-z0-9_.-]/g, '_');

export const dbtRunsDir = (config: Config) => join(config.LOGPIPE_DATA_DIR, 'dbt', 'runs');

async function pruneOldRuns(dir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info && now - info.mtimeMs > KEEP_RUN_DIRS_MS)
      await rm(join(dir, name), { recursive: true, force: true });
  }
}

const describeNode = (n: DbtNodeResult) =>
  `${n.resourceType} ${n.name} (${n.status}${n.failures ? `, ${n.failures} failing rows` : ''})`;

/** Runs `fn` holding the warehouse lock exclusively (see warehouseLock), on a connection of its own. */
async function withWarehouseLock<T>(
  pool: pg.Pool,
  RAW_SCHEMA: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [warehouseLock(RAW_SCHEMA)]);
    try {
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [warehouseLock(RAW_SCHEMA)]);
    }
  } finally {
    client.release();
  }
}

/** What a build does, decided under the warehouse lock from what the raw tables hold. */
export interface DbtPlan {
  /** Whether dbt runs at all: raw rows or catalog rows came since the last successful build. */
  run: boolean;
  /** Whether the products snapshot runs: the catalog changed (or there is no build yet). */
  snapshot: boolean;
  /** Generic tests of the incremental models read rows loaded after this; null: every row. */
  testsSince: string | null;
  /** The newest _loaded_at of the raw tables: what this build covers. */
  loadedUpto: string | null;
  reason: string;
}

/** The raw tables a build reads, each with its _loaded_at. */
const RAW_INPUTS = [...Object.values(TABLE_OF), 'users', 'products'];

/**
 * Decides the build from three facts, all cheap (indexed maxima, one row of dbt_builds): the newest
 * _loaded_at of each raw table, the last successful build's, and when the last full sweep ran.
 * Compared in SQL, at PostgreSQL's microsecond precision; times travel as text for the same reason.
 */
export async function planDbt(client: pg.PoolClient, config: Config): Promise<DbtPlan> {
  const raw = config.WAREHOUSE_RAW_SCHEMA;
  const newest = `greatest(${RAW_INPUTS.map((t) => `(SELECT max(_loaded_at) FROM ${raw}.${t})`).join(', ')})`;
  const res = await client.query<{
    loaded_upto: string | null;
    prev_upto: string | null;
    new_rows: boolean;
    catalog_changed: boolean;
    sweep_due: boolean;
    built: boolean;
  }>(
    `WITH prev AS (
       SELECT loaded_upto FROM ${raw}.dbt_builds WHERE status = 'success' ORDER BY finished_at DESC LIMIT 1),
     swept AS (
       SELECT max(started_at) AS at FROM ${raw}.dbt_builds WHERE status = 'success' AND tests_since IS NULL)
     SELECT ${newest}::text AS loaded_upto,
            (SELECT loaded_upto FROM prev)::text AS prev_upto,
            coalesce(${newest} > coalesce((SELECT loaded_upto FROM prev), '-infinity'), false) AS new_rows,
            coalesce((SELECT max(_loaded_at) FROM ${raw}.products) > coalesce((SELECT loaded_upto FROM prev), '-infinity'), false) AS catalog_changed,
            coalesce((SELECT at FROM swept) <= clock_timestamp() - make_interval(mins => $1), true) AS sweep_due,
            -- the marts may have been dropped by hand since: then everything is built again
            to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AND EXISTS (SELECT 1 FROM prev) AS built`,
    [
      config.DBT_FULL_TESTS_EVERY_MINUTES,
      `${config.WAREHOUSE_SCHEMA}.fact_events`,
      `${config.WAREHOUSE_SCHEMA}_snapshots.products_snapshot`,
    ],
  );
  const r = res.rows[0];
  if (!r) throw new Error('planning the dbt build: no answer');
  const sweepDue = !r.built || r.sweep_due;
  return {
    run: !r.built || r.new_rows || sweepDue,
    snapshot: !r.built || r.catalog_changed,
    testsSince: sweepDue ? null : r.prev_upto,
    loadedUpto: r.loaded_upto,
    reason: !r.built
      ? 'no build yet'
      : r.new_rows
        ? `rows loaded since ${r.prev_upto}`
        : sweepDue
          ? 'full test sweep due'
          : `nothing loaded since ${r.prev_upto}`,
  };
}

/** The worker's long-lived dbt runner (DBT_RUNNER=server), one per python install; builds queue on it. */
const servers = new Map<string, DbtServer>();
function dbtServerFor(config: Config): DbtServer | undefined {
  if (config.DBT_RUNNER !== 'server') return undefined;
  const python = dbtPython(config.LOGPIPE_CACHE_DIR);
  let server = servers.get(python);
  if (!server) {
    server = new DbtServer(python);
    servers.set(python, server);
  }
  return server;
}

/** Stops every runner (the batch worker calls it on shutdown; the next build starts a fresh one). */
export function stopDbtServers(): void {
  for (const server of servers.values()) server.stop();
}

export async function runDbtStep(config: Config, pool: pg.Pool, workflowId: string): Promise<DbtStepResult> {
  const ctx = Context.current();
  const logDir = join(dbtRunsDir(config), safeName(workflowId));
  // One target folder per warehouse, kept between runs, so dbt parses only what changed.
  const targetPath = join(config.LOGPIPE_DATA_DIR, 'dbt', 'target', config.WAREHOUSE_SCHEMA);
  await mkdir(logDir, { recursive: true });
  await pruneOldRuns(dbtRunsDir(config));
  const raw = config.WAREHOUSE_RAW_SCHEMA;
  // dbt can take minutes: keep the heartbeat going so a dead worker is noticed, not a slow dbt.
  const beat = setInterval(() => ctx.heartbeat(), 5_000);
  let res: Awaited<ReturnType<typeof invokeDbt>> | undefined;
  let plan: DbtPlan;
  try {
    // Under the warehouse lock: no load commits while the plan is made and the incremental models
    // read what is new, and no other dbt command shares the target folder meanwhile.
    ({ res, plan } = await withWarehouseLock(pool, raw, async (client) => {
      const plan = await planDbt(client, config);
      if (!plan.run) return { res: undefined, plan };
      // A build left 'running' was killed with its worker (the lock is free, so it is not running).
      await client.query(`UPDATE ${raw}.dbt_builds SET status = 'killed' WHERE status = 'running'`);
      await client.query(
        `INSERT INTO ${raw}.dbt_builds (run_id, loaded_upto, tests_since, snapshot, status)
         VALUES ($1, $2::timestamptz, $3::timestamptz, $4, 'running')`,
        [workflowId, plan.loadedUpto, plan.testsSince, plan.snapshot],
      );
      let r: Awaited<ReturnType<typeof invokeDbt>> | undefined;
      try {
        r = await invokeDbt(
          config,
          batchBuildArgs(plan.snapshot),
          { targetPath, logPath: logDir },
          { signal: ctx.cancellationSignal, server: dbtServerFor(config) },
        );
      } finally {
        await client.query(
          `UPDATE ${raw}.dbt_builds SET status = $2, finished_at = clock_timestamp()
           WHERE run_id = $1 AND status = 'running'`,
          [workflowId, r?.ok ? 'success' : 'failed'],
        );
      }
      await copyFile(join(targetPath, 'run_results.json'), join(logDir, 'build-run_results.json')).catch(
        () => undefined,
      );
      return { res: r, plan };
    }));
  } finally {
    clearInterval(beat);
  }
  if (!res) return { ran: false, plan, seconds: 0, nodes: [], logDir };
  const failed = failedNodes(res.results);
  if (failed.length) {
    // Bad data or a broken model: retrying gives the same answer, so the run fails now.
    throw ApplicationFailure.nonRetryable(
      `dbt build failed: ${failed.map(describeNode).join('; ')} (log: ${join(logDir, 'dbt.log')})`,
      FAILURE.dbt,
      failed,
    );
  }
  if (!res.ok) {
    // No node failed, yet dbt did not succeed (connection refused, crash): worth a retry.
    throw new Error(`dbt build exited with ${res.exitCode}: ${res.tail.split('\n').slice(-5).join(' | ')}`);
  }
  return {
    ran: true,
    plan,
    seconds: res.seconds,
    nodes: res.results.map((n) => ({
      name: n.name,
      type: n.resourceType,
      status: n.status,
      failures: n.failures,
      seconds: n.seconds,
    })),
    logDir,
  };
}
