// A known dataset for the dashboard's tests, in stores of its own: generated events (and a few bad
// lines) go through Kafka and the real streaming worker into an isolated topic and keyspace; the
// same events are loaded into isolated raw tables by the batch's own loader and `dbt build` makes
// the marts from them. The tests then compare what the dashboard shows with values computed here
// from the events.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createBatchActivities } from '../../activities/batch-activities.ts';
import { loadFileText } from '../../activities/load-file.ts';
import { schemaDdl } from '../../activities/warehouse-schema.ts';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { createKafka } from '../../lib/clients/kafka.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { dlqTopic } from '../../lib/config.ts';
import { batchBuildArgs, failedNodes, invokeDbt } from '../../lib/dbt.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { freePort } from '../../stack/net.ts';
import {
  cassandraEventIds,
  createTopics,
  type Isolated,
  isolated,
  send,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

/** Lines that are not events, with the dead-letter reason the worker gives each. */
export const BAD_LINES: { value: string; reason: string }[] = [
  { value: 'not json {', reason: 'invalid_json' },
  { value: '{"event_type": "search", ', reason: 'invalid_json' },
  { value: '[1, 2, 3]', reason: 'not_an_object' },
  { value: '"a string"', reason: 'not_an_object' },
  { value: '{"event_type": "refund", "timestamp": "2026-01-01T00:00:00Z"}', reason: 'unknown_event_type' },
];

export interface Dataset {
  iso: Isolated;
  events: LogEvent[];
  /** A range covering every event. */
  from: Date;
  to: Date;
  worker: WorkerHandle;
  metricsPort: number;
  pool: pg.Pool;
  cleanup(): Promise<void>;
}

export async function buildDataset(name: string, n: number, opts: { dbt: boolean }): Promise<Dataset> {
  const metricsPort = await freePort();
  const base = isolated(name);
  const id = base.id.toLowerCase();
  const iso = isolated(name, {
    STREAM_METRICS_PORT: String(metricsPort),
    DASHBOARD_STREAM_METRICS_URLS: `http://127.0.0.1:${metricsPort}`,
    WAREHOUSE_RAW_SCHEMA: `raw_${id}`,
    WAREHOUSE_SCHEMA: `wh_${id}`,
    BATCH_TASK_QUEUE: `q_${id}`,
    LOG_LEVEL: 'warn',
  });
  // Events over the last 50 minutes: every range from "last hour" up covers them all.
  const now = Date.now();
  const start = new Date(now - 50 * 60_000);
  const events = [...new EventGenerator({ seed: iso.id, start, rate: n / (48 * 60) }).take(n)];
  assert.ok(Date.parse(events.at(-1)?.timestamp ?? '') < now, 'no event in the future');
  const pool = createPgPool(iso.config);
  const raw = iso.config.WAREHOUSE_RAW_SCHEMA;
  const wh = iso.config.WAREHOUSE_SCHEMA;

  await createTopics(iso);
  const worker = startWorker(iso, 'dashboard');
  const streamed = (async () => {
    const summary = await send(iso, [
      ...events.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
      ...BAD_LINES.map((b, i) => ({ key: `bad-${i}`, value: b.value })),
    ]);
    assert.equal(summary.sent, n + BAD_LINES.length);
    await waitFor(
      `${n} rows in Cassandra`,
      async () => (await cassandraEventIds(iso)).size >= n,
      180_000,
      2000,
    );
  })();
  const warehouse = (async () => {
    if (!opts.dbt) return;
    const cassandra = createCassandra(iso.config);
    try {
      for (const ddl of schemaDdl(raw)) await pool.query(ddl);
      await createBatchActivities({
        config: iso.config,
        pool,
        hdfs: new Hdfs(iso.config),
        cassandra,
      }).loadCatalog();
      const load = await loadFileText(
        pool,
        raw,
        { path: `/test/${id}/events.ndjson`, kind: 'raw', dt: start.toISOString().slice(0, 10), hour: 0 },
        `${events.map((e) => JSON.stringify(e)).join('\n')}\n`,
        `test-${id}`,
      );
      assert.equal(load.rejected, 0);
      const paths = {
        targetPath: join(tmpdir(), `logpipe-dbt-${id}`, 'target'),
        logPath: join(tmpdir(), `logpipe-dbt-${id}`, 'logs'),
      };
      const res = await invokeDbt(iso.config, batchBuildArgs(true), paths);
      assert.equal(res.exitCode, 0, `dbt build failed:\n${res.tail}`);
      assert.deepEqual(failedNodes(res.results), []);
    } finally {
      await cassandra.shutdown();
    }
  })();
  await Promise.all([streamed, warehouse]);

  return {
    iso,
    events,
    from: new Date(Date.parse(events[0]?.timestamp ?? '') - 60_000),
    to: new Date(Date.parse(events.at(-1)?.timestamp ?? '') + 60_000),
    worker,
    metricsPort,
    pool,
    async cleanup() {
      await stopWorker(worker);
      for (const s of [raw, wh, `${wh}_staging`, `${wh}_snapshots`])
        await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
      await pool.end();
      const cassandra = createCassandra(iso.config);
      await cassandra.execute(`DROP KEYSPACE IF EXISTS ${iso.config.CASSANDRA_KEYSPACE}`).catch(() => {});
      await cassandra.shutdown();
      const admin = createKafka(iso.config, 'test-cleanup').admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [iso.config.KAFKA_TOPIC, dlqTopic(iso.config)] }).catch(() => {});
      await admin.disconnect();
    },
  };
}

// Expected values, computed from the events alone.

const day = (ts: string) => ts.slice(0, 10);

export function expectedCounts(events: LogEvent[]) {
  const byType: Record<string, number> = {};
  const byLevel: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  const countries = new Map<
    string,
    { events: number; revenue: number; errors: number; orders_completed: number }
  >();
  const cities = new Map<string, number>();
  let revenue = 0;
  for (const e of events) {
    byType[e.event_type] = (byType[e.event_type] ?? 0) + 1;
    byLevel[e.level] = (byLevel[e.level] ?? 0) + 1;
    const c = countries.get(e.geo_location.country) ?? {
      events: 0,
      revenue: 0,
      errors: 0,
      orders_completed: 0,
    };
    c.events++;
    if (e.event_type === 'order_complete') {
      c.revenue += e.details.amount;
      c.orders_completed++;
      revenue += e.details.amount;
    }
    if (e.event_type === 'error') {
      c.errors++;
      byCode[e.error_code] = (byCode[e.error_code] ?? 0) + 1;
    }
    countries.set(e.geo_location.country, c);
    const city = `${e.geo_location.country}|${e.geo_location.city}`;
    cities.set(city, (cities.get(city) ?? 0) + 1);
  }
  return { byType, byLevel, byCode, countries, cities, revenue };
}

export function expectedMarts(events: LogEvent[]) {
  const revenueByDay = new Map<string, { revenue: number; completed: Set<string>; failed: Set<string> }>();
  const statusOrders: Record<string, Set<string>> = {
    completed: new Set(),
    failed: new Set(),
    purchase: new Set(),
  };
  const productRevenue = new Map<string, number>();
  for (const e of events) {
    const d = revenueByDay.get(day(e.timestamp)) ?? { revenue: 0, completed: new Set(), failed: new Set() };
    if (e.event_type === 'order_complete') {
      d.revenue += e.details.amount;
      d.completed.add(e.details.order_id);
      statusOrders.completed?.add(e.details.order_id);
      for (const item of e.details.items as { product_id: string }[]) {
        productRevenue.set(item.product_id, (productRevenue.get(item.product_id) ?? 0) + e.details.amount);
      }
    }
    if (e.event_type === 'order_failed') {
      d.failed.add(e.details.order_id);
      statusOrders.failed?.add(e.details.order_id);
    }
    if (e.event_type === 'purchase' && e.details.order_id) statusOrders.purchase?.add(e.details.order_id);
    revenueByDay.set(day(e.timestamp), d);
  }
  const sessions = new Map<string, { started: string; types: Set<string> }>();
  for (const e of events) {
    const s = sessions.get(e.session_id) ?? { started: e.timestamp, types: new Set<string>() };
    if (Date.parse(e.timestamp) < Date.parse(s.started)) s.started = e.timestamp;
    s.types.add(e.event_type);
    sessions.set(e.session_id, s);
  }
  const funnel = { sessions: 0, searched: 0, purchased: 0, completed: 0 };
  for (const s of sessions.values()) {
    funnel.sessions++;
    const searched = s.types.has('search');
    const purchased = searched && s.types.has('purchase');
    if (searched) funnel.searched++;
    if (purchased) funnel.purchased++;
    if (purchased && s.types.has('order_complete')) funnel.completed++;
  }
  return { revenueByDay, statusOrders, productRevenue, funnel };
}
