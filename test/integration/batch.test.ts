// The batch workflow on the real Temporal server, HDFS and PostgreSQL: it loads exactly what the
// streaming worker wrote, once, and a run with nothing new loads nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBatchActivities, type LoadTotals } from '../../activities/batch-activities.ts';
import { listRawFiles } from '../../activities/hdfs-files.ts';
import type { DiscoveredFiles } from '../../activities/lake-scan.ts';
import { schemaDdl, TABLE_OF } from '../../activities/warehouse-schema.ts';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import { loadConfig } from '../../lib/config.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { SCHEDULE_ID } from '../../temporal/names.ts';
import { ensureSchedule } from '../../temporal/schedule.ts';
import { batchPoolSize } from '../../workers/batch-worker.ts';
import type { HdfsToWarehouseInput, HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';
import {
  createTopics,
  dataFileLines,
  hdfsEventIds,
  isolated,
  send,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

const TABLES = TABLE_OF;

describe('batch workflow (real Temporal, HDFS, PostgreSQL)', () => {
  const schema = `raw_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const iso = isolated('batch', {
    WAREHOUSE_RAW_SCHEMA: schema,
    WAREHOUSE_SCHEMA: `wh_${schema.slice(4)}`,
    BATCH_TASK_QUEUE: `batch-${schema}`,
    HDFS_ROLL_MAX_EVENTS: '400',
  });
  const warehouse = iso.config.WAREHOUSE_SCHEMA;
  const pool = createPgPool(iso.config);
  const workerPool = createPgPool(iso.config, batchPoolSize(iso.config));
  const cassandra = createCassandra(iso.config);
  let streaming: WorkerHandle;
  let client: Client;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const produced: LogEvent[] = [];

  // dbt takes a while; the runs that test the load alone skip it.
  const run = async (dbt = false, input: HdfsToWarehouseInput = {}): Promise<HdfsToWarehouseResult> =>
    (await client.workflow.execute('hdfsToWarehouse', {
      taskQueue: iso.config.BATCH_TASK_QUEUE,
      workflowId: `test-batch-${randomUUID()}`,
      args: [{ dbt, ...input }],
    })) as HdfsToWarehouseResult;

  async function produceAndWait(events: LogEvent[]): Promise<void> {
    produced.push(...events);
    await send(
      iso,
      events.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
    );
    // Only the events just sent: earlier ones may have left the raw folders already, when their
    // hour closed and a run compacted it.
    const ids = new Set(events.map((e) => e.event_id));
    await waitFor('the events in HDFS', async () => {
      const raw = await hdfsEventIds(iso);
      return [...ids].every((id) => raw.has(id)) ? true : undefined;
    });
  }

  async function tableCounts(): Promise<Record<string, { rows: number; distinct: number }>> {
    const out: Record<string, { rows: number; distinct: number }> = {};
    for (const t of Object.values(TABLES)) {
      const r = await pool.query<{ rows: string; distinct: string }>(
        `SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct FROM ${schema}.${t}`,
      );
      out[t] = { rows: Number(r.rows[0]?.rows), distinct: Number(r.rows[0]?.distinct) };
    }
    return out;
  }

  function expectedCounts(): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(Object.values(TABLES).map((t) => [t, 0]));
    for (const id of new Set(produced.map((e) => e.event_id))) {
      const e = produced.find((x) => x.event_id === id) as LogEvent;
      out[TABLES[e.event_type]] = (out[TABLES[e.event_type]] ?? 0) + 1;
    }
    return out;
  }

  before(async () => {
    await createTopics(iso);
    streaming = startWorker(iso);
    client = await connectTemporal(iso.config);
    connection = await NativeConnection.connect({ address: iso.config.TEMPORAL_ADDRESS });
    await cassandra.connect();
    worker = await Worker.create({
      connection,
      namespace: iso.config.TEMPORAL_NAMESPACE,
      taskQueue: iso.config.BATCH_TASK_QUEUE,
      workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
      // As workers/batch-worker.ts runs them: its own pool, sized for the activities it takes.
      activities: createBatchActivities({
        config: iso.config,
        pool: workerPool,
        hdfs: new Hdfs(iso.config),
        cassandra,
      }),
      maxConcurrentActivityTaskExecutions: iso.config.BATCH_WORKER_ACTIVITIES,
    });
    running = worker.run();
  });

  after(async () => {
    // The streaming worker is a child process: stop it first, whatever else fails.
    await stopWorker(streaming);
    worker.shutdown();
    await running;
    await connection.close();
    await client.connection.close();
    for (const s of [schema, warehouse, `${warehouse}_staging`, `${warehouse}_snapshots`])
      await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await pool.end();
    await workerPool.end();
    await cassandra.shutdown();
  });

  it('a run loads exactly the produced events, each in its type table once, then runs dbt', async () => {
    const now = Date.now();
    await produceAndWait([
      ...new EventGenerator({ seed: iso.id, start: new Date(now - 20 * 60_000), rate: 5 }).take(3000),
    ]);
    const result = await run(true);
    assert.equal(result.load.inserted, 3000);
    assert.equal(result.load.rejected, 0);
    assert.ok(result.filesNew >= 3);
    assert.deepEqual(result.services.map((s) => s.service).sort(), ['cassandra', 'hdfs', 'postgres']);
    const steps = result.steps.map((s) => s.step);
    assert.deepEqual(steps, [
      'check services',
      'schema',
      'plan compaction',
      'compact',
      'discover',
      'load',
      'validate',
      'catalog',
      'dbt',
      'reconcile',
    ]);
    // Each step starts when the one before it has ended (a bench matches them to its CPU samples).
    result.steps.forEach((s, i) => {
      const prev = result.steps[i - 1];
      assert.ok(typeof s.startedAt === 'number' && s.startedAt > 0, `${s.step} has its start`);
      if (prev?.startedAt !== undefined) assert.ok(s.startedAt >= prev.startedAt + prev.ms, s.step);
    });
    // The ledger holds the hours the run touched, every store with all 3000 events.
    assert.deepEqual(result.ledger?.drifted, []);
    const ledger = await pool.query<{ hdfs: string; cassandra: string; postgres: string; marts: string }>(
      `SELECT sum(hdfs) AS hdfs, sum(cassandra) AS cassandra, sum(postgres) AS postgres, sum(marts) AS marts
       FROM ${schema}.hour_ledger`,
    );
    assert.deepEqual(
      Object.values(ledger.rows[0] ?? {}).map(Number),
      [3000, 3000, 3000, 3000],
      'hdfs, cassandra, postgres, marts',
    );
    assert.ok(result.dbt?.ran, 'dbt ran');
    assert.equal(result.dbt.reason, 'no build yet');
    assert.equal(result.dbt.testsSince, null, 'the first build tests every row');
    assert.deepEqual(result.dbt.snapshots, [{ name: 'products_snapshot', status: 'success' }]);
    const models = new Map(result.dbt.models.map((m) => [m.name, m.status]));
    for (const m of ['fact_events', 'fact_orders', 'dim_products', 'revenue_daily', 'session_funnel_daily'])
      assert.equal(models.get(m), 'success', m);
    assert.ok(result.dbt.tests.length >= 40);
    assert.deepEqual(
      result.dbt.tests.filter((t) => t.status !== 'pass'),
      [],
    );
    assert.ok(existsSync(join(result.dbt.logDir, 'dbt.log')), 'dbt log kept');
    assert.ok(existsSync(join(result.dbt.logDir, 'build-run_results.json')), 'build results kept');
    const facts = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${warehouse}.fact_events`);
    assert.equal(Number(facts.rows[0]?.n), 3000);
    const counts = await tableCounts();
    const expected = expectedCounts();
    for (const [t, c] of Object.entries(counts)) {
      assert.equal(c.rows, expected[t], t);
      assert.equal(c.distinct, c.rows, `${t}: each event once`);
      assert.equal(result.load.perTable[t] ?? 0, expected[t]);
    }
    const manifest = await pool.query<{ n: string; rows: string }>(
      `SELECT count(*) AS n, sum(rows_inserted) AS rows FROM ${schema}.load_manifest`,
    );
    assert.equal(Number(manifest.rows[0]?.n), result.filesNew);
    assert.equal(Number(manifest.rows[0]?.rows), 3000);
    const orders = await pool.query(
      `SELECT count(*) FILTER (WHERE payment_method IS NULL) AS missing FROM ${schema}.order_complete_response`,
    );
    assert.equal(Number(orders.rows[0]?.missing), 0);
  });

  it('a second run with no new data loads nothing', async () => {
    const result = await run();
    // Nothing new from the streaming worker. Had the first test's hour closed between the runs,
    // its compacted file would hold only loaded rows and be recorded as loaded without a read.
    assert.equal(result.filesNew, 0);
    assert.equal(result.load.inserted, 0);
    assert.ok(result.filesFound >= 1);
  });

  it('dbt costs what is new: no build without news, the snapshot for catalog changes only, generic tests on new rows, every row in the sweep', async () => {
    // Nothing loaded since the first test's build. The catalog changes only at an hour boundary.
    const idle = await run(true);
    assert.equal(idle.load.inserted, 0);
    assert.ok(idle.dbt);
    assert.equal(idle.dbt.ran, idle.catalog.changed > 0, idle.dbt.reason);
    if (!idle.dbt.ran) {
      assert.match(idle.dbt.reason, /^nothing loaded since /);
      assert.deepEqual(idle.dbt.models, []);
    }

    // Not-null is carried by PostgreSQL on the incremental models, for old rows and new: a null
    // written behind dbt's back is refused (not_null_violation), where a test of new rows would
    // not see it.
    const notNull = await pool.query<{ relname: string; attname: string }>(
      `SELECT c.relname, a.attname FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1) AND c.relkind = 'r' AND a.attnum > 0 AND a.attnotnull`,
      [[warehouse, `${warehouse}_staging`]],
    );
    const has = new Set(notNull.rows.map((r) => `${r.relname}.${r.attname}`));
    for (const column of [
      'stg_search_events.event_id',
      'stg_order_complete_events.order_id',
      'stg_order_failed_events.user_id',
      'int_entities_seen.entity_id',
      'fact_events.event_type',
      'fact_events.user_id',
      'fact_orders.product_version_key',
      'fact_sessions.session_id',
      'revenue_daily.category',
      'error_rates_hourly.error_code',
    ])
      assert.ok(has.has(column), `${column} is NOT NULL in PostgreSQL`);
    await assert.rejects(
      pool.query(
        `UPDATE ${warehouse}.fact_events SET user_id = NULL WHERE event_id = (SELECT min(event_id) FROM ${warehouse}.fact_events)`,
      ),
      (err: Error & { code?: string }) => err.code === '23502',
    );

    // An old row of fact_events broken behind dbt's back: builds with new rows do not read it again.
    const broken = await pool.query<{ event_id: string; level: string }>(
      `SELECT event_id, level FROM ${warehouse}.fact_events ORDER BY event_id LIMIT 1`,
    );
    const brokenId = broken.rows[0]?.event_id;
    const level = broken.rows[0]?.level;
    await pool.query(`UPDATE ${warehouse}.fact_events SET level = 'BOGUS' WHERE event_id = $1`, [brokenId]);
    assert.ok(brokenId && level);
    try {
      await produceAndWait([
        ...new EventGenerator({
          seed: `${iso.id}-more`,
          start: new Date(Date.now() - 5 * 60_000),
          rate: 5,
        }).take(200),
      ]);
      // Two files per workflow run: the files are loaded by a chain of runs continued as new, the
      // last one reporting the totals of all, and dbt builds once, after the last.
      const more = await run(true, { filesPerRun: 2 });
      assert.equal(more.load.inserted, 200);
      assert.ok(more.filesNew >= 3, `${more.filesNew} files (one per partition)`);
      assert.equal(more.runs, Math.ceil(more.filesNew / 2), 'two files per run');
      assert.equal(more.load.files, more.filesNew);
      assert.equal(more.steps.filter((s) => s.step === 'dbt').length, 1);
      assert.equal(more.steps.filter((s) => s.step === 'load').length, more.runs);
      assert.ok(more.dbt?.ran);
      assert.match(more.dbt.reason, /^rows loaded since /);
      assert.ok(more.dbt.testsSince, 'generic tests read the rows loaded after the last build');
      assert.equal(
        more.dbt.snapshot,
        more.catalog.changed > 0,
        'the snapshot runs only for a catalog change',
      );
      assert.equal(more.dbt.snapshots.length, more.dbt.snapshot ? 1 : 0);
      assert.deepEqual(
        more.dbt.tests.filter((t) => t.status !== 'pass'),
        [],
        'the broken old row is not read by the tests of new rows',
      );
      const facts = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${warehouse}.fact_events`);
      assert.equal(Number(facts.rows[0]?.n), 3200, 'the new rows are in the marts');

      // The full sweep is due an hour after the last one: it reads every row and finds the break.
      await pool.query(`UPDATE ${schema}.dbt_builds SET started_at = started_at - interval '2 hours'`);
      const sweep = await run(true).then(
        () => undefined,
        (err: Error & { cause?: Error }) => err,
      );
      assert.ok(sweep, 'the sweep failed the run');
      assert.match(String(sweep.cause?.message), /dbt build failed: .*accepted_values_fact_events_level/);
    } finally {
      await pool.query(`UPDATE ${warehouse}.fact_events SET level = $2 WHERE event_id = $1`, [
        brokenId,
        level,
      ]);
    }
    // Repaired: the sweep (still due, since the failed one does not count) passes.
    const repaired = await run(true);
    assert.equal(repaired.dbt?.testsSince, null, 'a full sweep');
    assert.deepEqual(
      repaired.dbt?.tests.filter((t) => t.status !== 'pass'),
      [],
    );
  });

  it('late events for an hour already loaded are loaded by the next run; a replay adds nothing', async () => {
    const late = [
      ...new EventGenerator({
        seed: `${iso.id}-late`,
        start: new Date(Date.now() - 3 * 3600_000),
        rate: 5,
      }).take(500),
    ];
    await produceAndWait(late);
    const first = await run();
    assert.equal(first.load.inserted, 500);
    // The same events again: the streaming worker writes them to new files; the batch skips them.
    await send(
      iso,
      late.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
    );
    await waitFor('the replay in HDFS', async () => {
      const raw = await hdfsEventIds(iso);
      // The first copies were compacted away from the raw folders; the replay brings them back there.
      return late.every((e) => raw.has(e.event_id)) ? true : undefined;
    });
    const replay = await run();
    assert.ok(replay.filesNew >= 1);
    assert.equal(replay.load.inserted, 0);
    assert.ok(replay.load.duplicate >= 500, `${replay.load.duplicate} duplicates skipped`);
    const counts = await tableCounts();
    const expected = expectedCounts();
    for (const [t, c] of Object.entries(counts)) assert.equal(c.rows, expected[t], t);
  });

  it('compacts a closed hour into one deduplicated file and removes its raw files', async () => {
    const hdfs = new Hdfs(iso.config);
    const late = produced.filter((e) => Date.parse(e.timestamp) < Date.now() - 2 * 3600_000);
    const hours = new Set(
      late.map((e) => `dt=${e.timestamp.slice(0, 10)}/hour=${e.timestamp.slice(11, 13)}`),
    );
    let compactedLines = 0;
    for (const h of hours) {
      const rawLeft = await hdfs
        .list(`${iso.config.HDFS_RAW_ROOT}/${iso.config.KAFKA_TOPIC}/${h}`)
        .catch(() => []);
      assert.deepEqual(
        rawLeft.filter((f) => f.pathSuffix.endsWith('.ndjson')).map((f) => f.pathSuffix),
        [],
        `no raw files left in ${h}`,
      );
      const files = (
        await hdfs.list(`${iso.config.HDFS_COMPACTED_ROOT}/${iso.config.KAFKA_TOPIC}/${h}`)
      ).filter((f) => !f.pathSuffix.startsWith('_'));
      assert.equal(files.length, 1, `one compacted file in ${h}`);
      const ids = (
        await dataFileLines(
          hdfs,
          `${iso.config.HDFS_COMPACTED_ROOT}/${iso.config.KAFKA_TOPIC}/${h}/${files[0]?.pathSuffix}`,
        )
      ).map((l) => (JSON.parse(l) as { event_id: string }).event_id);
      assert.equal(new Set(ids).size, ids.length, 'deduplicated by event_id');
      compactedLines += ids.length;
    }
    // The replayed copies were merged away: each late event once.
    assert.equal(compactedLines, late.length);
    const recorded = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${schema}.compactions WHERE inputs_removed`,
    );
    assert.ok(Number(recorded.rows[0]?.n) >= hours.size);
  });

  it('a new warehouse on this lake finds its compacted files by one scan; later runs list only the hours they know of', async () => {
    const topic = iso.config.KAFKA_TOPIC;
    const lake = `${iso.config.HDFS_COMPACTED_ROOT}/${topic}`;
    const real = new Hdfs(iso.config);
    const truth = await listRawFiles(real, iso.config.HDFS_COMPACTED_ROOT, topic);
    assert.ok(truth.length >= 1, 'the hours compacted above');
    const lakeSchema = `${schema}_lake`;
    const config = { ...iso.config, WAREHOUSE_RAW_SCHEMA: lakeSchema };
    for (const ddl of schemaDdl(lakeSchema)) await pool.query(ddl);
    // Every folder the activities list, to see which parts of the lake a discovery reads.
    const listed: string[] = [];
    const hdfs = new Proxy(real, {
      get(target, key) {
        const v = Reflect.get(target, key, target);
        if (typeof v !== 'function') return v;
        if (key === 'list' || key === 'listIfExists')
          return (path: string) => {
            listed.push(path);
            return v.call(target, path);
          };
        return v.bind(target);
      },
    });
    const acts = createBatchActivities({ config, pool: workerPool, hdfs, cassandra });
    const env = new MockActivityEnvironment();
    const discover = async (options: { rescanLake?: boolean } = {}) => {
      listed.length = 0;
      const d = (await env.run(acts.discoverNewFiles, options)) as DiscoveredFiles;
      return { ...d, compacted: d.files.filter((f) => f.kind === 'compacted').map((f) => f.path) };
    };
    const moved = `${lake}/dt=2020-01-01/hour=00/${truth[0]?.path.split('/').pop()}`;
    try {
      const first = await discover();
      assert.equal(first.lakeScan, true, 'a warehouse without a scan lists the whole lake');
      assert.deepEqual(
        first.compacted,
        truth.map((f) => f.path),
      );
      assert.ok(listed.includes(lake));

      // A run that crashed before its loads: the next one finds the same files, without a scan.
      const second = await discover();
      assert.equal(second.lakeScan, false);
      assert.deepEqual(second.compacted, first.compacted);
      const hourDirs = new Set(truth.map((f) => f.path.slice(0, f.path.lastIndexOf('/'))));
      assert.deepEqual(
        [...new Set(listed.filter((p) => p.startsWith(`${lake}/`) || p === lake))].sort(),
        [...hourDirs].sort(),
        'only the hours of the files the scan found',
      );

      const loaded = (await env.run(
        acts.loadFiles,
        second.files.filter((f) => f.kind === 'compacted'),
        'test-lake-scan',
      )) as LoadTotals;
      let lines = 0;
      for (const f of truth) lines += (await dataFileLines(real, f.path)).length;
      assert.equal(loaded.inserted, lines, 'every event of the lake, once');

      const third = await discover();
      assert.deepEqual(third.compacted, []);
      assert.deepEqual(
        listed.filter((p) => p.startsWith(lake)),
        [],
        'nothing unloaded: the lake is not listed at all',
      );
      // Compaction left those hours' raw folders empty; HDFS says so, and they are not listed.
      const rawHours = [...hourDirs].map(
        (d) => iso.config.HDFS_RAW_ROOT + d.slice(iso.config.HDFS_COMPACTED_ROOT.length),
      );
      for (const d of rawHours) assert.equal((await real.stat(d))?.childrenNum, 0, `${d} is there, empty`);
      assert.deepEqual(
        listed.filter((p) => rawHours.includes(p)),
        [],
      );

      // A lake file the warehouse has no record of (copied in by hand) is found by a rescan only.
      await real.writeFile(moved, await real.readFile(truth[0]?.path as string));
      assert.deepEqual((await discover()).compacted, []);
      const rescan = await discover({ rescanLake: true });
      assert.equal(rescan.lakeScan, true);
      assert.deepEqual(rescan.compacted, [moved]);
      const again = (await env.run(
        acts.loadFiles,
        rescan.files.filter((f) => f.kind === 'compacted'),
        'test-lake-scan',
      )) as LoadTotals;
      assert.equal(again.inserted, 0, 'its events are loaded already');
      assert.equal(again.duplicate, (await dataFileLines(real, moved)).length);
      assert.deepEqual((await discover()).compacted, [], 'loaded: forgotten by the next discovery');
    } finally {
      await real.remove(`${lake}/dt=2020-01-01`, true).catch(() => {});
      await pool.query(`DROP SCHEMA IF EXISTS ${lakeSchema} CASCADE`);
    }
  });

  it('loads the catalog with current prices and stock', async () => {
    const r = await pool.query<{ users: string; products: string; priced: string }>(
      `SELECT (SELECT count(*) FROM ${schema}.users) AS users, (SELECT count(*) FROM ${schema}.products) AS products,
              (SELECT count(*) FROM ${schema}.products WHERE price > 0 AND stock >= 0) AS priced`,
    );
    assert.equal(Number(r.rows[0]?.users), 2000);
    assert.equal(Number(r.rows[0]?.products), 10_000);
    assert.equal(Number(r.rows[0]?.priced), 10_000);
  });

  it('a failing dbt test fails the run and is named in the failure', async () => {
    // A completed order with a negative amount slipped into the raw table behind the loader's back.
    const eventId = `bad-${randomUUID()}`;
    for (const ddl of schemaDdl(schema)) await pool.query(ddl);
    await pool.query(
      `INSERT INTO ${schema}.order_complete_response (event_id, schema_version, "timestamp", level, service, event_type,
         user_id, session_id, product_id, order_id, amount, _source_file)
       VALUES ($1, 1, now() - interval '1 hour', 'INFO', 'test', 'order_complete', 'user_1', 'sess_bad', 'prod_00001',
         $1, -5, 'inserted by the test')`,
      [eventId],
    );
    try {
      const failure = await run(true).then(
        () => undefined,
        (err: Error & { cause?: Error & { cause?: Error & { type?: string } } }) => err,
      );
      assert.ok(failure, 'the run failed');
      // The workflow fails with its root cause on top: the step, the error type, the node, the log.
      const cause = failure.cause as (Error & { type?: string }) | undefined;
      assert.equal(cause?.type, 'DbtFailed');
      assert.match(
        String(cause?.message),
        /^step "dbt" failed \(DbtFailed\): dbt build failed: .*assert_revenue_never_negative/,
      );
      assert.match(String(cause?.message), /dbt\.log/);
    } finally {
      await pool.query(`DELETE FROM ${schema}.order_complete_response WHERE event_id = $1`, [eventId]);
    }
  });

  it('its histories replay without nondeterminism errors', async () => {
    const ids: string[] = [];
    for await (const w of client.workflow.list({
      query: `TaskQueue = '${iso.config.BATCH_TASK_QUEUE}' AND ExecutionStatus = 'Completed'`,
    }))
      ids.push(w.workflowId);
    assert.ok(ids.length >= 3, `${ids.length} completed runs`);
    const histories = await Promise.all(
      ids.map(async (workflowId) => ({
        workflowId,
        history: await client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    const results = Worker.runReplayHistories(
      { workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)) },
      histories,
    );
    let replayed = 0;
    for await (const r of results) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
      replayed++;
    }
    assert.equal(replayed, ids.length);
  });

  it('fails fast naming a service that is down, and posts the failure to the alert webhook', async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const broken = {
      ...iso.config,
      WEBHDFS_URL: 'http://127.0.0.1:1',
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
      BATCH_TASK_QUEUE: `${iso.config.BATCH_TASK_QUEUE}-broken`,
    };
    const conn = await NativeConnection.connect({ address: iso.config.TEMPORAL_ADDRESS });
    const w = await Worker.create({
      connection: conn,
      namespace: iso.config.TEMPORAL_NAMESPACE,
      taskQueue: broken.BATCH_TASK_QUEUE,
      workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
      activities: createBatchActivities({ config: broken, pool, hdfs: new Hdfs(broken), cassandra }),
    });
    const workflowId = `test-broken-${randomUUID()}`;
    const failure = await w.runUntil(
      client.workflow
        .execute('hdfsToWarehouse', { taskQueue: broken.BATCH_TASK_QUEUE, workflowId, args: [{}] })
        .then(
          () => undefined,
          (err: Error & { cause?: Error & { cause?: Error } }) => err,
        ),
    );
    await conn.close();
    server.close();
    assert.ok(failure, 'the run failed');
    const text = `${failure.message} ${failure.cause?.message ?? ''} ${failure.cause?.cause?.message ?? ''}`;
    assert.match(text, /service check failed: hdfs/);
    assert.equal(received.length, 1);
    const alert = JSON.parse(received[0] as string) as { text: string };
    assert.match(alert.text, /FAILED/);
    assert.match(alert.text, /hdfs/);
    assert.ok(alert.text.includes(workflowId));
  });
});

describe('the hdfs-to-warehouse schedule', () => {
  const config = loadConfig();
  it('is created idempotently with a 10-minute interval, SKIP overlap and a one-hour catch-up window', async () => {
    const client = await connectTemporal(config);
    try {
      await ensureSchedule(client, config);
      assert.equal(await ensureSchedule(client, config), 'updated');
      const handle = client.schedule.getHandle(SCHEDULE_ID);
      const d = await handle.describe();
      assert.equal(d.spec.intervals?.[0]?.every, 600_000);
      assert.equal(d.policies.overlap, 'SKIP');
      assert.equal(d.policies.catchupWindow, 3_600_000);
      assert.ok(String(d.memo?.description).includes('Every 10 minutes'));

      const cli = await new Promise<string>((resolve, reject) =>
        execFile(
          join(config.LOGPIPE_DATA_DIR, 'bin', 'temporal'),
          [
            'schedule',
            'describe',
            '--schedule-id',
            SCHEDULE_ID,
            '--address',
            config.TEMPORAL_ADDRESS,
            '-o',
            'json',
          ],
          (err, out) => (err ? reject(err) : resolve(out)),
        ),
      );
      const parsed = JSON.parse(cli) as {
        schedule?: { spec?: { interval?: { interval?: string }[] }; policies?: { overlapPolicy?: string } };
      };
      assert.equal(parsed.schedule?.spec?.interval?.[0]?.interval, '600s');
      assert.match(String(parsed.schedule?.policies?.overlapPolicy), /SKIP/);

      await handle.pause('paused by the test');
      assert.equal((await handle.describe()).state.paused, true);
      await handle.unpause('unpaused by the test');
      assert.equal((await handle.describe()).state.paused, false);

      // Temporal keeps only the last ten actions: look for a new workflow id, not a longer list.
      const before = new Set(
        (await handle.describe()).info.recentActions.map((a) => a.action.workflow.workflowId),
      );
      // Allow-all for this one: a scheduled run may be pending already (no worker polls the
      // default queue during the tests), and SKIP would then skip the trigger.
      await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      const started = await waitFor(
        'the triggered run',
        async () => {
          const actions = (await handle.describe()).info.recentActions;
          return actions.find((a) => !before.has(a.action.workflow.workflowId));
        },
        30_000,
      );
      const runId = started.action.workflow.workflowId;
      assert.ok(runId.startsWith(`${SCHEDULE_ID}-`), runId);
      // Leave no run waiting for a worker that this test did not start.
      await client.workflow
        .getHandle(runId)
        .terminate('started by the schedule test')
        .catch(() => {});
    } finally {
      await client.connection.close();
    }
  });
});
