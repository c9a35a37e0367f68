// Running dbt: the pinned install in the cache, the project in dbt/, the profile reading logpipe's
// own variables, and the results read from run_results.json. Used by `logpipe dbt`, the batch
// workflow's dbt activity, the tests and the benchmark.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { recipeHome } from '../stack/recipe.ts';
import { sessionOptions } from './clients/postgres.ts';
import { type Config, repoRoot } from './config.ts';
import type { DbtServer } from './dbt-server.ts';
import { CONTRACT_VALUES } from './events/enums.ts';

export const DBT_CORE_VERSION = '1.10.15';
export const DBT_POSTGRES_VERSION = '1.9.1';
export const DBT_PROJECT_DIR = join(repoRoot, 'dbt');

/** What goes into dbt's virtual environment; its hash names the cache folder (stack/recipe.ts). */
export const DBT_RECIPE = {
  component: 'dbt',
  version: DBT_CORE_VERSION,
  pip: [`dbt-core==${DBT_CORE_VERSION}`, `dbt-postgres==${DBT_POSTGRES_VERSION}`],
};
export const dbtHome = (cacheDir: string) => recipeHome(cacheDir, DBT_RECIPE);
export const dbtExecutable = (cacheDir: string) => join(dbtHome(cacheDir), 'bin', 'dbt');
/** The venv's python, which also runs the long-lived runner (lib/dbt-server.ts). */
export const dbtPython = (cacheDir: string) => join(dbtHome(cacheDir), 'bin', 'python3');

/** Runs dbt so that it dies with its parent (see the script). */
const DIE_WITH_PARENT = join(repoRoot, 'lib', 'die_with_parent.py');

export interface DbtPaths {
  /** dbt's target/ (manifest, compiled SQL, run_results.json). */
  targetPath: string;
  /** Where dbt.log goes. */
  logPath: string;
}

/** The environment dbt needs: the project, the profile and the connection, from logpipe's config. */
export function dbtEnv(config: Config, paths: DbtPaths): Record<string, string> {
  return {
    DBT_PROJECT_DIR,
    DBT_PROFILES_DIR: config.DBT_PROFILES_DIR,
    DBT_TARGET_PATH: paths.targetPath,
    DBT_LOG_PATH: paths.logPath,
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DBT_USE_COLORS: 'false',
    PGHOST: config.PGHOST,
    PGPORT: String(config.PGPORT),
    PGUSER: config.PGUSER,
    PGPASSWORD: config.PGPASSWORD,
    PGDATABASE: config.PGDATABASE,
    // libpq reads it for every connection dbt opens (the profile sets no search_path, which would
    // replace it).
    PGOPTIONS: sessionOptions(),
    WAREHOUSE_RAW_SCHEMA: config.WAREHOUSE_RAW_SCHEMA,
    WAREHOUSE_SCHEMA: config.WAREHOUSE_SCHEMA,
    // The contract's closed sets, for accepted_values (dbt/macros/contract_values.sql).
    LOGPIPE_CONTRACT: JSON.stringify(CONTRACT_VALUES),
  };
}

/**
 * The batch's `dbt build`: never the unit tests (hand-written cases of the models' logic, run by the
 * test suite: they do not depend on the data), and the snapshot only when the catalog changed.
 */
export const batchBuildArgs = (snapshot: boolean): string[] => [
  'build',
  '--exclude-resource-type',
  'unit_test',
  ...(snapshot ? [] : ['snapshot']),
];

export interface DbtNodeResult {
  /** e.g. unit_test.logpipe.fact_orders.fact_orders_shares_the_amount_among_lines_by_quantity */
  uniqueId: string;
  /** model, snapshot, test, seed… */
  resourceType: string;
  name: string;
  /** success, error, skipped, pass, fail, warn, … as dbt reports it. */
  status: string;
  message: string | null;
  failures: number | null;
  seconds: number;
}

export interface DbtInvocation {
  args: string[];
  ok: boolean;
  exitCode: number;
  results: DbtNodeResult[];
  /** The last lines dbt printed (the whole log is under logPath). */
  tail: string;
  seconds: number;
  /** Run by a long-lived runner: whether it parsed the project first (false: its manifest was reused). */
  parsed?: boolean;
}

interface RunResults {
  elapsed_time?: number;
  results?: {
    unique_id: string;
    status: string;
    message?: string | null;
    failures?: number | null;
    execution_time?: number;
  }[];
}

const FAILED = new Set(['error', 'fail', 'runtime error']);

/** The nodes that failed (a model or snapshot in error, a test that failed). */
export const failedNodes = (results: DbtNodeResult[]) => results.filter((r) => FAILED.has(r.status));

export async function invokeDbt(
  config: Config,
  args: string[],
  paths: DbtPaths,
  options: { signal?: AbortSignal; server?: DbtServer } = {},
): Promise<DbtInvocation> {
  const started = Date.now();
  const runResults = join(paths.targetPath, 'run_results.json');
  // A stale file from an earlier command must not be read as this one's results.
  await rm(runResults, { force: true });
  let exitCode: number;
  let output: string;
  let parsed: boolean | undefined;
  if (options.server) {
    const reply = await options.server.run(args, dbtEnv(config, paths), options.signal);
    exitCode = reply.exitCode;
    parsed = reply.parsed;
    output = [...reply.output, ...(reply.error ? [reply.error] : [])].join('\n');
  } else {
    const dbt = dbtExecutable(config.LOGPIPE_CACHE_DIR);
    const res = await execa(dbtPython(config.LOGPIPE_CACHE_DIR), [DIE_WITH_PARENT, dbt, ...args], {
      env: { ...dbtEnv(config, paths), LOGPIPE_DBT_PARENT_PID: String(process.pid) },
      cwd: DBT_PROJECT_DIR,
      reject: false,
      all: true,
      cancelSignal: options.signal,
    });
    exitCode = res.exitCode ?? 1;
    output = String(res.all ?? '');
  }
  let results: DbtNodeResult[] = [];
  try {
    const file = JSON.parse(await readFile(runResults, 'utf8')) as RunResults;
    results = (file.results ?? []).map((r) => {
      const [resourceType = '', , name = r.unique_id] = r.unique_id.split('.');
      return {
        uniqueId: r.unique_id,
        resourceType,
        name,
        status: r.status,
        message: r.message ?? null,
        failures: r.failures ?? null,
        seconds: Math.round((r.execution_time ?? 0) * 1000) / 1000,
      };
    });
  } catch {
    results = []; // dbt stopped before running anything (bad profile, parse error): see tail
  }
  return {
    args,
    ok: exitCode === 0 && failedNodes(results).length === 0,
    exitCode,
    results,
    tail: output.split('\n').slice(-30).join('\n'),
    seconds: (Date.now() - started) / 1000,
    ...(parsed === undefined ? {} : { parsed }),
  };
}
