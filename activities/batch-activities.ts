// The batch workflow's activities, bound to their clients. Each one is idempotent: a retry after
// a crash at any point loads nothing twice (see load-file.ts) and loses nothing.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type cassandraDriver from 'cassandra-driver';
import type pg from 'pg';
import type { Hdfs } from '../lib/clients/hdfs.ts';
import type { Config } from '../lib/config.ts';
import { buildCatalog, productStateAt } from '../producers/catalog.ts';
import {
  type CompactionResult,
  compactedDir,
  compactHour,
  finishPendingCompactions,
  type HourToCompact,
} from './compact-hour.ts';
import { type DbtCommand, type DbtStepResult, runDbtStep } from './dbt-step.ts';
import { listRawFiles } from './hdfs-files.ts';
import { type FileLoad, type FileLoadResult, loadFileText } from './load-file.ts';
import { postAlert } from './notify.ts';
import { schemaDdl, TABLE_OF } from './warehouse-schema.ts';

export interface BatchDeps {
  config: Config;
  pool: pg.Pool;
  hdfs: Hdfs;
  cassandra: cassandraDriver.Client;
}

export interface ServiceCheck {
  service: string;
  ok: boolean;
  detail: string;
}

export interface LoadTotals {
  files: number;
  skipped: number;
  lines: number;
  inserted: number;
  duplicate: number;
  rejected: number;
  perTable: Record<string, number>;
  /** Raw files gone when their turn came (an overlapping run compacted them): not loaded here. */
  vanished: string[];
}

async function probe(service: string, fn: () => Promise<unknown>): Promise<ServiceCheck> {
  try {
    await fn();
    return { service, ok: true, detail: 'answers' };
  } catch (err) {
    return { service, ok: false, detail: (err as Error).message.split('\n')[0] ?? 'error' };
  }
}

const DEADLOCK = '40P01';

/** The running activity's context, or undefined outside a worker (a test, a script). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Runs fn heartbeating every two seconds (with `details()`, the progress a retry resumes from): a
 * worker that dies is noticed within the group's heartbeat timeout, while a slow step (a lock
 * wait, a server coming back, one large file) is not taken for a dead worker.
 */
async function beating<T>(fn: () => Promise<T>, details: () => unknown = () => undefined): Promise<T> {
  const ctx = activityContext();
  if (!ctx) return fn(); // nobody to heartbeat to
  const timer = setInterval(() => ctx.heartbeat(details()), 2000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** Throws the activity's cancellation (delivered with a heartbeat) between two units of work. */
function honourCancellation(): void {
  activityContext()?.cancellationSignal.throwIfAborted();
}

/**
 * Runs fn holding a session-level advisory lock: one holder at a time whatever started it (the
 * schedule, `batch run`, a backfill that allows overlaps, a retried attempt). The lock belongs to
 * the connection, so a worker killed with -9 frees it when PostgreSQL sees the connection drop.
 */
async function exclusively<T>(pool: pg.Pool, name: string, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    for (;;) {
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
        name,
      ]);
      if (got.rows[0]?.ok) break;
      honourCancellation();
      await new Promise((r) => setTimeout(r, 1000));
    }
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
    }
  } finally {
    client.release();
  }
}

export function createBatchActivities(deps: BatchDeps) {
  const { config, pool, hdfs, cassandra } = deps;
  const RAW_SCHEMA = config.WAREHOUSE_RAW_SCHEMA;

  return {
    /** A Slack-compatible message about the run, when ALERT_WEBHOOK_URL is set. */
    async notify(outcome: { ok: boolean; workflowId: string; message: string }): Promise<boolean> {
      if (outcome.ok && config.ALERT_ON_SUCCESS !== 'true') return false;
      const link = `${config.TEMPORAL_UI_URL}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(outcome.workflowId)}`;
      return beating(() =>
        postAlert(
          config.ALERT_WEBHOOK_URL,
          `${outcome.ok ? ':white_check_mark:' : ':x:'} logpipe batch ${outcome.workflowId} ${outcome.ok ? 'succeeded' : 'FAILED'}: ${outcome.message}\n${link}`,
        ),
      );
    },

    /** HDFS, PostgreSQL and Cassandra answer; otherwise the run ends naming the service. */
    async checkServices(): Promise<ServiceCheck[]> {
      const checks = await beating(() =>
        Promise.all([
          probe('hdfs', () => hdfs.list('/')),
          probe('postgres', () => pool.query('SELECT 1')),
          probe('cassandra', () => cassandra.execute('SELECT release_version FROM system.local')),
        ]),
      );
      const down = checks.filter((c) => !c.ok);
      if (down.length)
        throw new Error(`service check failed: ${down.map((c) => `${c.service} (${c.detail})`).join(', ')}`);
      return checks;
    },

    async ensureWarehouseSchema(): Promise<void> {
      await beating(async () => {
        for (const ddl of schemaDdl(RAW_SCHEMA)) await pool.query(ddl);
      });
    },

    /** Compacted and raw files in HDFS that the manifest does not list yet. */
    async discoverNewFiles(): Promise<{ found: number; files: FileLoad[] }> {
      return beating(async () => {
        const compacted = (await listRawFiles(hdfs, config.HDFS_COMPACTED_ROOT, config.KAFKA_TOPIC)).map(
          (f) => ({ ...f, kind: 'compacted' as const }),
        );
        const raw = (await listRawFiles(hdfs, config.HDFS_RAW_ROOT, config.KAFKA_TOPIC)).map((f) => ({
          ...f,
          kind: 'raw' as const,
        }));
        const all = [...compacted, ...raw];
        const loaded = await pool.query<{ path: string }>(
          `SELECT path FROM ${RAW_SCHEMA}.load_manifest WHERE path = ANY($1)`,
          [all.map((f) => f.path)],
        );
        const done = new Set(loaded.rows.map((r) => r.path));
        const files = all
          .filter((f) => !done.has(f.path))
          .map((f) => ({ path: f.path, kind: f.kind, dt: f.dt, hour: f.hour }));
        return { found: all.length, files };
      });
    },

    /** Merges each closed hour's raw files into one compacted file (see compact-hour.ts). */
    async compactClosedHours(): Promise<CompactionResult[]> {
      const ctx = Context.current();
      let compactedHours = 0;
      return beating(
        () =>
          exclusively(pool, `logpipe-compaction:${RAW_SCHEMA}`, async () => {
            await finishPendingCompactions(hdfs, pool, RAW_SCHEMA);
            const raw = await listRawFiles(hdfs, config.HDFS_RAW_ROOT, config.KAFKA_TOPIC);
            const compacted = await listRawFiles(hdfs, config.HDFS_COMPACTED_ROOT, config.KAFKA_TOPIC);
            const closedBefore = Date.now() - config.COMPACT_GRACE_MINUTES * 60_000;
            const hours = new Map<string, HourToCompact>();
            for (const f of raw) {
              const hourEnd = Date.parse(`${f.dt}T${String(f.hour).padStart(2, '0')}:00:00Z`) + 3_600_000;
              if (hourEnd > closedBefore) continue; // still open: its raw files are loaded as they are
              const key = `${f.dt}/${f.hour}`;
              const h = hours.get(key) ?? { dt: f.dt, hour: f.hour, inputs: [] };
              h.inputs.push(f.path);
              hours.set(key, h);
            }
            // A late raw file is merged with the hour's earlier compacted file.
            for (const f of compacted) hours.get(`${f.dt}/${f.hour}`)?.inputs.push(f.path);
            const results: CompactionResult[] = [];
            for (const h of hours.values()) {
              honourCancellation();
              const dir = compactedDir(config.HDFS_COMPACTED_ROOT, config.KAFKA_TOPIC, h.dt, h.hour);
              results.push(await compactHour(hdfs, pool, RAW_SCHEMA, dir, h));
              compactedHours = results.length;
            }
            // A compacted file whose inputs were all loaded holds only rows already in the tables (the
            // usual case: an hour's raw files were loaded while it was open). It is recorded as loaded
            // without being read again.
            await pool.query(
              `INSERT INTO ${RAW_SCHEMA}.load_manifest (path, kind, dt, hour, lines, rows_inserted, rows_duplicate, rows_rejected, run_id)
           SELECT c.output, 'compacted', c.dt, c.hour, c.events, 0, c.events, 0, $1
           FROM ${RAW_SCHEMA}.compactions c
           WHERE c.inputs_removed
             AND NOT EXISTS (SELECT 1 FROM ${RAW_SCHEMA}.load_manifest m WHERE m.path = c.output)
             AND NOT EXISTS (
               SELECT 1 FROM unnest(c.inputs) AS i(path)
               WHERE NOT EXISTS (SELECT 1 FROM ${RAW_SCHEMA}.load_manifest m WHERE m.path = i.path))
           ON CONFLICT (path) DO NOTHING`,
              [ctx.info.workflowExecution?.workflowId ?? null],
            );
            return results;
          }),
        () => ({ compacted: compactedHours }),
      );
    },

    /** Loads files one by one; after a retry it resumes from the last file reported done. */
    async loadFiles(files: FileLoad[], runId: string): Promise<LoadTotals> {
      const ctx = Context.current();
      const resumeFrom = (ctx.info.heartbeatDetails as { done?: number } | undefined)?.done ?? 0;
      const totals: LoadTotals = {
        files: 0,
        skipped: 0,
        lines: 0,
        inserted: 0,
        duplicate: 0,
        rejected: 0,
        perTable: {},
        vanished: [],
      };
      const add = (r: FileLoadResult) => {
        if (r.vanished) totals.vanished.push(r.path);
        totals.files++;
        if (r.skipped) totals.skipped++;
        totals.lines += r.lines;
        totals.inserted += r.inserted;
        totals.duplicate += r.duplicate;
        totals.rejected += r.rejected;
        for (const [t, n] of Object.entries(r.perTable)) totals.perTable[t] = (totals.perTable[t] ?? 0) + n;
      };
      // Two files at a time: one is parsed here while PostgreSQL writes the other. The heartbeat
      // reports how many files from the start are done, so a retry resumes after them (a file
      // done beyond that point is found in the manifest and skipped).
      let next = resumeFrom;
      let doneUpTo = resumeFrom;
      const finished = new Set<number>();
      const loadOne = async (file: FileLoad): Promise<FileLoadResult> => {
        // A raw file that an overlapping run compacted away since it was listed: its lines are in
        // the hour's compacted file, which the next discovery finds (it is not recorded as loaded,
        // since this input was not).
        if (file.kind === 'raw' && !(await hdfs.stat(file.path)))
          return {
            path: file.path,
            skipped: true,
            vanished: true,
            lines: 0,
            inserted: 0,
            duplicate: 0,
            rejected: 0,
            perTable: {},
          };
        const text = (await hdfs.readFile(file.path)).toString('utf8');
        for (let attempt = 1; ; attempt++) {
          try {
            return await loadFileText(pool, RAW_SCHEMA, file, text, runId);
          } catch (err) {
            // Two files holding the same events in another order can deadlock: the loser retries.
            if ((err as { code?: string }).code !== DEADLOCK || attempt >= 5) throw err;
          }
        }
      };
      const lane = async () => {
        while (next < files.length) {
          honourCancellation();
          const i = next++;
          add(await loadOne(files[i] as FileLoad));
          finished.add(i);
          while (finished.delete(doneUpTo)) doneUpTo++;
          ctx.heartbeat({ done: doneUpTo });
        }
      };
      await beating(
        () => Promise.all([lane(), lane()]),
        () => ({ done: doneUpTo }),
      );
      return totals;
    },

    /** `dbt snapshot`, `dbt run` or `dbt test` (see dbt-step.ts). */
    async dbt(command: DbtCommand, workflowId: string): Promise<DbtStepResult> {
      return runDbtStep(config, pool, command, workflowId);
    },

    /** Users and products from the producer's catalog, prices and stock as they are now. */
    async loadCatalog(): Promise<{ users: number; products: number }> {
      return beating(async () => {
        const catalog = buildCatalog('logpipe');
        const now = new Date();
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          for (let i = 0; i < catalog.users.length; i += 500) {
            const chunk = catalog.users.slice(i, i + 500);
            await client.query(
              `INSERT INTO ${RAW_SCHEMA}.users (user_id, username, email, full_name, first_name, last_name, sex, age, country, city, signup_date)
               SELECT * FROM jsonb_to_recordset($1::jsonb) AS u(user_id text, username text, email text, full_name text, first_name text, last_name text, sex text, age int, country text, city text, signup_date date)
               ON CONFLICT (user_id) DO UPDATE SET username = EXCLUDED.username, email = EXCLUDED.email, age = EXCLUDED.age, country = EXCLUDED.country, city = EXCLUDED.city, _loaded_at = now()`,
              [JSON.stringify(chunk)],
            );
          }
          for (let i = 0; i < catalog.products.length; i += 1000) {
            const chunk = catalog.products
              .slice(i, i + 1000)
              .map((p) => ({ ...p, ...productStateAt(p, now) }));
            // Only rows whose price or stock changed are touched, so the snapshot sees real changes.
            await client.query(
              `INSERT INTO ${RAW_SCHEMA}.products (product_id, name, category, subcategory, brand, description, price, stock, rating, date_added, weight)
               SELECT * FROM jsonb_to_recordset($1::jsonb) AS p(product_id text, name text, category text, subcategory text, brand text, description text, price numeric, stock int, rating numeric, date_added date, weight numeric)
               ON CONFLICT (product_id) DO UPDATE SET price = EXCLUDED.price, stock = EXCLUDED.stock, _loaded_at = now()
               WHERE ${RAW_SCHEMA}.products.price IS DISTINCT FROM EXCLUDED.price OR ${RAW_SCHEMA}.products.stock IS DISTINCT FROM EXCLUDED.stock`,
              [JSON.stringify(chunk)],
            );
          }
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          client.release();
        }
        return { users: catalog.users.length, products: catalog.products.length };
      });
    },

    /** Rows per file equal the manifest; no null keys in the order tables. Bad data is not retried. */
    async validateLoad(paths: string[]): Promise<{ filesChecked: number }> {
      return beating(async () => {
        if (paths.length) {
          const unions = Object.values(TABLE_OF)
            .map(
              (t) =>
                `SELECT _source_file, count(*) AS n FROM ${RAW_SCHEMA}.${t} WHERE _source_file = ANY($1) GROUP BY 1`,
            )
            .join(' UNION ALL ');
          const res = await pool.query<{ path: string; expected: number; actual: string }>(
            `SELECT m.path, m.rows_inserted AS expected, coalesce(sum(x.n), 0) AS actual
             FROM ${RAW_SCHEMA}.load_manifest m LEFT JOIN (${unions}) x ON x._source_file = m.path
             WHERE m.path = ANY($1) GROUP BY m.path, m.rows_inserted`,
            [paths],
          );
          const bad = res.rows.filter((r) => Number(r.actual) !== Number(r.expected));
          if (bad.length) {
            throw ApplicationFailure.nonRetryable(
              `rows per file differ from the manifest: ${bad.map((b) => `${b.path} (manifest ${b.expected}, tables ${b.actual})`).join('; ')}`,
              'ValidationFailed',
            );
          }
          if (res.rows.length !== paths.length) {
            const listed = new Set(res.rows.map((r) => r.path));
            const missing = paths.filter((p) => !listed.has(p));
            throw ApplicationFailure.nonRetryable(
              `${missing.length} loaded files have no manifest entry: ${missing.slice(0, 5).join(', ')}`,
              'ValidationFailed',
            );
          }
        }
        for (const t of ['order_complete_response', 'order_failed_response']) {
          const nulls = await pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${RAW_SCHEMA}.${t} WHERE order_id IS NULL`,
          );
          if (Number(nulls.rows[0]?.n) > 0)
            throw ApplicationFailure.nonRetryable(
              `${t} has ${nulls.rows[0]?.n} rows without order_id`,
              'ValidationFailed',
            );
        }
        return { filesChecked: paths.length };
      });
    },
  };
}

export type BatchActivities = ReturnType<typeof createBatchActivities>;
