// The batch workflow's activities, bound to their clients. Each one is idempotent: a retry after
// a crash at any point loads nothing twice (see load-file.ts) and loses nothing.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type cassandraDriver from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { buildCatalog, productStateAt } from '../lib/catalog/catalog.ts';
import type { HdfsStore } from '../lib/clients/hdfs.ts';
import { createKafka } from '../lib/clients/kafka.ts';
import type { Config } from '../lib/config.ts';
import { errorField, errorMessage } from '../lib/errors.ts';
import { type HourKey, hourClosedBefore, hourFolder, hourKey } from '../lib/hdfs-layout.ts';
import { FAILURE } from '../temporal/names.ts';
import { workflowLink } from '../temporal/ui-links.ts';
import { emptyTotals } from '../workflows/load-plan.ts';
import { type CompactionResult, finishPendingCompactions, compactHour as mergeHour } from './compact-hour.ts';
import { fileLoadChunks } from './data-file-lines.ts';
import { type DbtStepResult, runDbtStep } from './dbt-step.ts';
import { listHourFiles, listHoursFiles, listRawFiles } from './hdfs-files.ts';
import {
  type DiscoveredFiles,
  type DiscoverOptions,
  recordLakeScan,
  unloadedLakeHours,
} from './lake-scan.ts';
import { type FileLoad, type FileLoadResult, loadFile } from './load-file.ts';
import { postAlert } from './notify.ts';
import { type HourReport, hasDrift } from './reconcile/hour-counts.ts';
import { recordLedger, type Watermark } from './reconcile/ledger.ts';
import { reconcile } from './reconcile/reconcile.ts';
import { schemaDdl, warehouseLock } from './warehouse-schema.ts';

export interface BatchDeps {
  config: Config;
  pool: pg.Pool;
  hdfs: HdfsStore;
  cassandra: cassandraDriver.Client;
  /** For the dead-letter counts of the reconciliation (created from the config when not given). */
  kafka?: Kafka;
}

export interface LedgerResult {
  hours: HourReport[];
  /** Closed hours where a store lacks events that HDFS has (or has more). */
  drifted: string[];
  watermark: Watermark;
  alerted: boolean;
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
    return { service, ok: false, detail: errorMessage(err).split('\n')[0] ?? 'error' };
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
  let kafka = deps.kafka;

  return {
    /** A Slack-compatible message about the run, when ALERT_WEBHOOK_URL is set. */
    async notify(outcome: { ok: boolean; workflowId: string; message: string }): Promise<boolean> {
      if (outcome.ok && config.ALERT_ON_SUCCESS !== 'true') return false;
      const link = workflowLink(config, outcome.workflowId);
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

    /**
     * The files the manifest lacks: raw files (their root holds only hours not compacted yet) and
     * compacted files. A compacted file is looked for only in the hours of compactions whose
     * output is not loaded, and of lake files a scan found and the manifest lacks: a run's cost
     * must not grow with the lake's history (a year is 8,760 hour folders). The whole lake is
     * listed once per warehouse (no scan recorded yet: a new warehouse on an existing lake), and
     * when `rescanLake` asks for it; what such a scan finds is recorded with it, so later pages
     * of a long backlog, and runs after a crash, still find it.
     */
    async discoverNewFiles(options: DiscoverOptions = {}): Promise<DiscoveredFiles> {
      return beating(async () => {
        const root = config.HDFS_COMPACTED_ROOT;
        const topic = config.KAFKA_TOPIC;
        const lake = `${root}/${topic}`;
        const scanned = await pool.query(`SELECT 1 FROM ${RAW_SCHEMA}.lake_scans WHERE lake = $1`, [lake]);
        const lakeScan = options.rescanLake === true || !scanned.rowCount;
        const compacted = lakeScan
          ? await listRawFiles(hdfs, root, topic)
          : await listHoursFiles(hdfs, root, topic, await unloadedLakeHours(pool, RAW_SCHEMA, lake));
        const raw = await listRawFiles(hdfs, config.HDFS_RAW_ROOT, topic);
        const all = [
          ...compacted.map((f) => ({ ...f, kind: 'compacted' as const })),
          ...raw.map((f) => ({ ...f, kind: 'raw' as const })),
        ];
        const loaded = await pool.query<{ path: string }>(
          `SELECT path FROM ${RAW_SCHEMA}.load_manifest WHERE path = ANY($1)`,
          [all.map((f) => f.path)],
        );
        const done = new Set(loaded.rows.map((r) => r.path));
        const files = all
          .filter((f) => !done.has(f.path))
          .map((f) => ({ path: f.path, kind: f.kind, dt: f.dt, hour: f.hour, bytes: f.bytes }));
        if (lakeScan) {
          const found = files.filter((f) => f.kind === 'compacted');
          await recordLakeScan(pool, RAW_SCHEMA, lake, found);
        }
        return { found: all.length, files, lakeScan };
      });
    },

    /**
     * The closed hours that have raw files to compact, and the hours where a crash left a recorded
     * compaction unfinished (such an hour may have no raw file left to list). Each is one
     * `compactHour` activity, so several batch workers share a backlog.
     */
    async planCompaction(): Promise<HourKey[]> {
      return beating(async () => {
        const raw = await listRawFiles(hdfs, config.HDFS_RAW_ROOT, config.KAFKA_TOPIC);
        const closedBefore = Date.now() - config.COMPACT_GRACE_MINUTES * 60_000;
        const hours = new Map<string, HourKey>();
        for (const f of raw) {
          if (!hourClosedBefore(f, closedBefore)) continue; // still open: loaded as is
          hours.set(hourKey(f.dt, f.hour), { dt: f.dt, hour: f.hour });
        }
        const pending = await pool.query<{ dt: string; hour: number }>(
          `SELECT DISTINCT to_char(dt, 'YYYY-MM-DD') AS dt, hour FROM ${RAW_SCHEMA}.compactions WHERE NOT inputs_removed`,
        );
        for (const p of pending.rows) hours.set(hourKey(p.dt, p.hour), { dt: p.dt, hour: p.hour });
        return [...hours.values()].sort((a, b) => (hourKey(a.dt, a.hour) < hourKey(b.dt, b.hour) ? -1 : 1));
      });
    },

    /**
     * Merges one closed hour's raw files (and its earlier compacted file, when late files came)
     * into one compacted file (see compact-hour.ts), under a lock of that hour: two runs, or two
     * workers, never compact the same hour at once. The hour's files are listed under the lock, so
     * a run that planned the hour before another compacted it finds nothing left to do (null).
     */
    async compactHour(target: HourKey, runId: string): Promise<CompactionResult | null> {
      return beating(() =>
        exclusively(pool, `logpipe-compaction:${RAW_SCHEMA}:${hourKey(target.dt, target.hour)}`, async () => {
          await finishPendingCompactions(hdfs, pool, RAW_SCHEMA, target);
          const outDir = hourFolder(config.HDFS_COMPACTED_ROOT, config.KAFKA_TOPIC, target.dt, target.hour);
          const rawDir = hourFolder(config.HDFS_RAW_ROOT, config.KAFKA_TOPIC, target.dt, target.hour);
          const raw = await listHourFiles(hdfs, rawDir);
          if (!raw.length) return null;
          const inputs = [...raw, ...(await listHourFiles(hdfs, outDir))];
          const result = await mergeHour(hdfs, pool, RAW_SCHEMA, outDir, { ...target, inputs });
          // A compacted file whose inputs were all loaded holds only rows already in the tables (the
          // usual case: an hour's raw files were loaded while it was open). It is recorded as
          // loaded without being read again.
          await pool.query(
            `INSERT INTO ${RAW_SCHEMA}.load_manifest (path, kind, dt, hour, lines, rows_inserted, rows_duplicate, rows_rejected, run_id)
             SELECT c.output, 'compacted', c.dt, c.hour, c.events, 0, c.events, 0, $2
             FROM ${RAW_SCHEMA}.compactions c
             WHERE c.output = $1 AND c.inputs_removed
               AND NOT EXISTS (
                 SELECT 1 FROM unnest(c.inputs) AS i(path)
                 WHERE NOT EXISTS (SELECT 1 FROM ${RAW_SCHEMA}.load_manifest m WHERE m.path = i.path))
             ON CONFLICT (path) DO NOTHING`,
            [result.output, runId],
          );
          return result;
        }),
      );
    },

    /** Loads files one by one; after a retry it resumes from the last file reported done. */
    async loadFiles(files: FileLoad[], runId: string): Promise<LoadTotals> {
      const ctx = Context.current();
      const resumeFrom = (ctx.info.heartbeatDetails as { done?: number } | undefined)?.done ?? 0;
      const totals = emptyTotals();
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
        for (let attempt = 1; ; attempt++) {
          try {
            // Read a range at a time while it loads: never the whole file in memory.
            return await loadFile(pool, RAW_SCHEMA, file, () => fileLoadChunks(hdfs, file.path), runId);
          } catch (err) {
            // Two files holding the same events in another order can deadlock: the loser retries.
            if (errorField(err, 'code') !== DEADLOCK || attempt >= 5) throw err;
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

    /** One `dbt build` at the cost of the new data, or none when nothing is new (see dbt-step.ts). */
    async dbt(workflowId: string): Promise<DbtStepResult> {
      return runDbtStep(config, pool, workflowId);
    },

    /**
     * Reconciles the hours the run touched (see reconcile/): records each hour's counts in the
     * ledger, moves the marts' watermark, and raises the alert webhook for closed hours with drift.
     */
    async recordLedger(hours: HourKey[], runId: string): Promise<LedgerResult> {
      return beating(async () => {
        kafka ??= createKafka(config, 'logpipe-batch');
        const reports = await reconcile({ config, pool, hdfs, cassandra, kafka }, { hours });
        const watermark = await recordLedger(
          pool,
          { raw: RAW_SCHEMA, marts: config.WAREHOUSE_SCHEMA },
          reports,
          runId,
        );
        const drifted = reports.filter((r) => r.closed && hasDrift(r));
        let alerted = false;
        if (drifted.length) {
          const lines = drifted.map(
            (r) =>
              `${r.hour}: cassandra ${r.drift.cassandra}, postgres ${r.drift.postgres}, marts ${r.drift.marts} (hdfs ${r.counts.hdfs})`,
          );
          alerted = await postAlert(
            config.ALERT_WEBHOOK_URL,
            `:warning: logpipe reconcile: ${drifted.length} closed hour(s) drift from HDFS (events HDFS has that the store lacks)\n${lines.join('\n')}\n${workflowLink(config, runId)}`,
          ).catch(() => false); // the ledger has it; an alert never fails the run
        }
        return { hours: reports, drifted: drifted.map((r) => r.hour), watermark, alerted };
      });
    },

    /** Users and products from the producer's catalog, prices and stock as they are now. */
    async loadCatalog(): Promise<{ users: number; products: number; changed: number }> {
      return beating(async () => {
        const catalog = buildCatalog('logpipe');
        const now = new Date();
        const client = await pool.connect();
        let changed = 0;
        try {
          await client.query('BEGIN');
          // Like a file's load, the catalog never commits while dbt builds (see warehouseLock), and
          // its rows carry the clock time of their write: a build's plan sees every change.
          await client.query('SELECT pg_advisory_xact_lock_shared(hashtext($1))', [
            warehouseLock(RAW_SCHEMA),
          ]);
          for (let i = 0; i < catalog.users.length; i += 500) {
            const chunk = catalog.users.slice(i, i + 500);
            const users = await client.query(
              `INSERT INTO ${RAW_SCHEMA}.users (user_id, username, email, full_name, first_name, last_name, sex, age, country, city, signup_date, _loaded_at)
               SELECT *, clock_timestamp() FROM jsonb_to_recordset($1::jsonb) AS u(user_id text, username text, email text, full_name text, first_name text, last_name text, sex text, age int, country text, city text, signup_date date)
               ON CONFLICT (user_id) DO UPDATE SET username = EXCLUDED.username, email = EXCLUDED.email, age = EXCLUDED.age, country = EXCLUDED.country, city = EXCLUDED.city, _loaded_at = clock_timestamp()
               WHERE (${RAW_SCHEMA}.users.username, ${RAW_SCHEMA}.users.email, ${RAW_SCHEMA}.users.age, ${RAW_SCHEMA}.users.country, ${RAW_SCHEMA}.users.city)
                 IS DISTINCT FROM (EXCLUDED.username, EXCLUDED.email, EXCLUDED.age, EXCLUDED.country, EXCLUDED.city)`,
              [JSON.stringify(chunk)],
            );
            changed += users.rowCount ?? 0;
          }
          for (let i = 0; i < catalog.products.length; i += 1000) {
            const chunk = catalog.products
              .slice(i, i + 1000)
              .map((p) => ({ ...p, ...productStateAt(p, now) }));
            // Only rows whose price or stock changed are touched, so the snapshot sees real changes.
            const products = await client.query(
              `INSERT INTO ${RAW_SCHEMA}.products (product_id, name, category, subcategory, brand, description, price, stock, rating, date_added, weight, _loaded_at)
               SELECT *, clock_timestamp() FROM jsonb_to_recordset($1::jsonb) AS p(product_id text, name text, category text, subcategory text, brand text, description text, price numeric, stock int, rating numeric, date_added date, weight numeric)
               ON CONFLICT (product_id) DO UPDATE SET price = EXCLUDED.price, stock = EXCLUDED.stock, _loaded_at = clock_timestamp()
               WHERE ${RAW_SCHEMA}.products.price IS DISTINCT FROM EXCLUDED.price OR ${RAW_SCHEMA}.products.stock IS DISTINCT FROM EXCLUDED.stock`,
              [JSON.stringify(chunk)],
            );
            changed += products.rowCount ?? 0;
          }
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          client.release();
        }
        return { users: catalog.users.length, products: catalog.products.length, changed };
      });
    },

    /**
     * Every loaded file has its manifest entry, and its counts add up (lines = inserted + duplicate
     * + rejected): the counts COPY reported, committed in the same transaction as the rows, so the
     * tables are not scanned to count them again. Rows loaded since `since` (the run's start, by
     * the _loaded_at index) have their order ids. Bad data is not retried.
     */
    async validateLoad(paths: string[], since?: string): Promise<{ filesChecked: number }> {
      return beating(async () => {
        if (paths.length) {
          const res = await pool.query<{ path: string; lines: number; sum: number }>(
            `SELECT path, lines, rows_inserted + rows_duplicate + rows_rejected AS sum
             FROM ${RAW_SCHEMA}.load_manifest WHERE path = ANY($1)`,
            [paths],
          );
          const bad = res.rows.filter((r) => Number(r.lines) !== Number(r.sum));
          if (bad.length) {
            throw ApplicationFailure.nonRetryable(
              `manifest counts do not add up: ${bad.map((b) => `${b.path} (${b.lines} lines, ${b.sum} inserted + duplicate + rejected)`).join('; ')}`,
              FAILURE.validation,
            );
          }
          if (res.rows.length !== paths.length) {
            const listed = new Set(res.rows.map((r) => r.path));
            const missing = paths.filter((p) => !listed.has(p));
            throw ApplicationFailure.nonRetryable(
              `${missing.length} loaded files have no manifest entry: ${missing.slice(0, 5).join(', ')}`,
              FAILURE.validation,
            );
          }
        }
        for (const t of ['order_complete_response', 'order_failed_response']) {
          const nulls = await pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${RAW_SCHEMA}.${t} WHERE order_id IS NULL
             ${since ? 'AND _loaded_at >= $1::timestamptz' : ''}`,
            since ? [since] : [],
          );
          if (Number(nulls.rows[0]?.n) > 0)
            throw ApplicationFailure.nonRetryable(
              `${t} has ${nulls.rows[0]?.n} rows without order_id`,
              FAILURE.validation,
            );
        }
        return { filesChecked: paths.length };
      });
    },
  };
}

export type BatchActivities = ReturnType<typeof createBatchActivities>;
