// The batch's dbt step: `dbt snapshot`, `dbt run` or `dbt test` with the project's profile, its
// results read from run_results.json. Each workflow run gets its own folder under the data dir
// with dbt.log and every command's run_results.json, kept for a week; failing models and tests are
// named in the error so the run's failure says what broke.
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Config } from '../lib/config.ts';
import { type DbtNodeResult, failedNodes, invokeDbt } from '../lib/dbt.ts';
import { warehouseLock } from './warehouse-schema.ts';

export type DbtCommand = 'snapshot' | 'run' | 'test';

export interface DbtStepResult {
  command: DbtCommand;
  seconds: number;
  nodes: { name: string; type: string; status: string; failures: number | null }[];
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
async function withWarehouseLock<T>(pool: pg.Pool, RAW_SCHEMA: string, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [warehouseLock(RAW_SCHEMA)]);
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [warehouseLock(RAW_SCHEMA)]);
    }
  } finally {
    client.release();
  }
}

export async function runDbtStep(
  config: Config,
  pool: pg.Pool,
  command: DbtCommand,
  workflowId: string,
): Promise<DbtStepResult> {
  const ctx = Context.current();
  const logDir = join(dbtRunsDir(config), safeName(workflowId));
  // One target folder per warehouse, kept between runs, so dbt parses only what changed.
  const targetPath = join(config.LOGPIPE_DATA_DIR, 'dbt', 'target', config.WAREHOUSE_SCHEMA);
  await mkdir(logDir, { recursive: true });
  if (command === 'snapshot') await pruneOldRuns(dbtRunsDir(config));
  // dbt can take minutes: keep the heartbeat going so a dead worker is noticed, not a slow dbt.
  const beat = setInterval(() => ctx.heartbeat({ command }), 5_000);
  let res: Awaited<ReturnType<typeof invokeDbt>>;
  try {
    // Under the warehouse lock: no load commits while the incremental models read what is new, and
    // no other dbt command shares the target folder meanwhile.
    res = await withWarehouseLock(pool, config.WAREHOUSE_RAW_SCHEMA, async () => {
      const r = await invokeDbt(
        config,
        [command],
        { targetPath, logPath: logDir },
        { signal: ctx.cancellationSignal },
      );
      await copyFile(join(targetPath, 'run_results.json'), join(logDir, `${command}-run_results.json`)).catch(
        () => undefined,
      );
      return r;
    });
  } finally {
    clearInterval(beat);
  }
  const failed = failedNodes(res.results);
  if (failed.length) {
    // Bad data or a broken model: retrying gives the same answer, so the run fails now.
    throw ApplicationFailure.nonRetryable(
      `dbt ${command} failed: ${failed.map(describeNode).join('; ')} (log: ${join(logDir, 'dbt.log')})`,
      'DbtFailed',
      failed,
    );
  }
  if (!res.ok) {
    // No node failed, yet dbt did not succeed (connection refused, crash): worth a retry.
    throw new Error(
      `dbt ${command} exited with ${res.exitCode}: ${res.tail.split('\n').slice(-5).join(' | ')}`,
    );
  }
  return {
    command,
    seconds: res.seconds,
    nodes: res.results.map((n) => ({
      name: n.name,
      type: n.resourceType,
      status: n.status,
      failures: n.failures,
    })),
    logDir,
  };
}
