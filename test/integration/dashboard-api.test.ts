// The dashboard's JSON API against the real stack: a known dataset goes through Kafka and the real
// streaming worker into an isolated keyspace and, through the batch loader and dbt, into isolated
// marts; every number the API gives is compared with values computed from the events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Dashboard, startDashboard } from '../../dashboard/server.ts';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import { loadConfig } from '../../lib/config.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { freePort } from '../../stack/net.ts';
import { BATCH_WORKFLOW_TYPE, SCHEDULE_ID } from '../../temporal/names.ts';
import { send, stopWorker, waitFor } from '../helpers/pipeline.ts';
import {
  BAD_LINES,
  buildDataset,
  type Dataset,
  expectedCounts,
  expectedMarts,
} from '../ui/dashboard-dataset.ts';

const N = 3000;
const near = (a: number, b: number, eps = 0.011) => Math.abs(a - b) <= eps;

describe('dashboard API (real Kafka, Cassandra, PostgreSQL + dbt, Temporal)', () => {
  let ds: Dataset;
  let dash: Dashboard;
  let range: string;
  const get = async <T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${dash.url}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };
  const ok = async <T = Record<string, unknown>>(path: string): Promise<T> => {
    const r = await get<T>(path);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  before(async () => {
    ds = await buildDataset('dash_api', N, { dbt: true });
    dash = await startDashboard(ds.iso.config, { port: 0 });
    range = `from=${ds.from.toISOString()}&to=${ds.to.toISOString()}`;
  });
  after(async () => {
    await dash?.close();
    await ds?.cleanup();
  });

  it('overview: events by type and level, revenue and countries equal the dataset', async () => {
    const exp = expectedCounts(ds.events);
    const o = await ok<{
      events: number;
      byType: object;
      byLevel: object;
      revenue: number;
      countries: number;
    }>(`/api/overview?${range}`);
    assert.equal(o.events, N);
    assert.deepEqual(o.byType, Object.fromEntries(Object.entries(exp.byType).sort()));
    assert.deepEqual(o.byLevel, Object.fromEntries(Object.entries(exp.byLevel).sort()));
    assert.ok(near(o.revenue, exp.revenue), `${o.revenue} vs ${exp.revenue}`);
    assert.equal(o.countries, exp.countries.size);
    // The relative ranges cover the dataset too (it is inside the last 50 minutes).
    assert.equal((await ok<{ events: number }>('/api/overview?range=1h')).events, N);
    // A range before the dataset is empty.
    const before = `from=${new Date(ds.from.getTime() - 3 * 3_600_000).toISOString()}&to=${ds.from.toISOString()}`;
    assert.equal((await ok<{ events: number }>(`/api/overview?${before}`)).events, 0);
  });

  it('timeline: per-minute buckets sum to the counts by type', async () => {
    const exp = expectedCounts(ds.events);
    const t = await ok<{ bucket: string; points: Record<string, number>[] }>(`/api/timeline?${range}`);
    assert.equal(t.bucket, 'minute');
    for (const [type, n] of Object.entries(exp.byType)) {
      assert.equal(
        t.points.reduce((a, p) => a + (p[type] ?? 0), 0),
        n,
        type,
      );
    }
    const firstMinute = ds.events.filter(
      (e) => e.timestamp.slice(0, 16) === ds.events[0]?.timestamp.slice(0, 16),
    );
    const point = t.points.find((p) => String(p.t).slice(0, 16) === ds.events[0]?.timestamp.slice(0, 16));
    assert.equal(point?.total, firstMinute.length);
  });

  it('errors by code and geography by country and city equal the dataset', async () => {
    const exp = expectedCounts(ds.events);
    const e = await ok<{ errors: number; byCode: { error_code: string; errors: number }[] }>(
      `/api/errors?${range}`,
    );
    assert.equal(e.errors, exp.byType.error);
    assert.deepEqual(Object.fromEntries(e.byCode.map((c) => [c.error_code, c.errors])), exp.byCode);
    const g = await ok<{
      countries: {
        country: string;
        events: number;
        revenue: number;
        errors: number;
        orders_completed: number;
      }[];
      cities: { country: string; city: string; events: number }[];
    }>(`/api/geo?${range}`);
    assert.equal(g.countries.length, exp.countries.size);
    for (const c of g.countries) {
      const x = exp.countries.get(c.country);
      assert.ok(x, c.country);
      assert.equal(c.events, x.events, c.country);
      assert.equal(c.errors, x.errors, c.country);
      assert.equal(c.orders_completed, x.orders_completed, c.country);
      assert.ok(near(c.revenue, x.revenue), `${c.country}: ${c.revenue} vs ${x.revenue}`);
    }
    assert.equal(g.cities.length, exp.cities.size);
    for (const c of g.cities) assert.equal(c.events, exp.cities.get(`${c.country}|${c.city}`), c.city);
  });

  it('newest events: newest first, and every filter returns exactly the matching events', async () => {
    const sorted = [...ds.events].sort((a, b) => b.timestamp.localeCompare(a.timestamp));
    const all = await ok<{ events: { event_id: string; timestamp: string }[] }>(
      `/api/events?${range}&limit=50`,
    );
    assert.equal(all.events.length, 50);
    assert.deepEqual(
      all.events.map((e) => e.timestamp),
      sorted.slice(0, 50).map((e) => e.timestamp),
    );
    const check = async (query: string, pred: (e: Dataset['events'][number]) => boolean) => {
      const expected = ds.events.filter(pred);
      const r = await ok<{ events: { event_id: string }[] }>(`/api/events?${range}&limit=500&${query}`);
      assert.equal(r.events.length, Math.min(500, expected.length), query);
      const ids = new Set(expected.map((e) => e.event_id));
      assert.ok(
        r.events.every((e) => ids.has(e.event_id)),
        query,
      );
      return expected.length;
    };
    assert.ok(
      (await check(
        'type=error&country=US',
        (e) => e.event_type === 'error' && e.geo_location.country === 'US',
      )) > 0,
    );
    await check('level=ERROR', (e) => e.level === 'ERROR');
    const user = ds.events[7]?.user_id as string;
    await check(`user=${user}`, (e) => e.user_id === user);
    const code = ds.events.find((e) => e.event_type === 'error');
    assert.ok(code?.event_type === 'error');
    await check(
      `q=${encodeURIComponent(code.error_code.toLowerCase())}`,
      (e) => e.event_type === 'error' && e.error_code === code.error_code,
    );
    await check('q=nothing-matches-this', () => false);
    // SQL- or CQL-looking text is a plain search string.
    await check(`q=${encodeURIComponent("x' OR '1'='1")}`, () => false);
  });

  it('ingestion counters come from the streaming worker; lag per partition from Kafka', async () => {
    const i = await ok<{
      consumedTotal: number;
      writtenTotal: Record<string, number>;
      deadLetteredTotal: Record<string, number>;
    }>('/api/ingestion');
    assert.equal(i.consumedTotal, N + BAD_LINES.length);
    assert.equal(i.writtenTotal.cassandra, N);
    const reasons: Record<string, number> = {};
    for (const b of BAD_LINES) reasons[b.reason] = (reasons[b.reason] ?? 0) + 1;
    assert.deepEqual(i.deadLetteredTotal, reasons);
    const lag = await waitFor('the group committed everything', async () => {
      const l = await ok<{ total: number; partitions: { lag: number; high: number }[] }>('/api/lag');
      return l.total === 0 ? l : undefined;
    });
    assert.equal(lag.partitions.length, 3);
    assert.equal(
      lag.partitions.reduce((a, p) => a + p.high, 0),
      N + BAD_LINES.length,
    );
  });

  it('dead-lettered messages by reason are read from the dead-letter topic', async () => {
    const reasons: Record<string, number> = {};
    for (const b of BAD_LINES) reasons[b.reason] = (reasons[b.reason] ?? 0) + 1;
    const d = await waitFor(
      'the dead-letter topic read to its end',
      async () => {
        const r = await ok<{
          caughtUp: boolean;
          read: number;
          byReason: { reason: string; messages: number }[];
        }>('/api/dead-letters');
        return r.caughtUp && r.read === BAD_LINES.length ? r : undefined;
      },
      60_000,
    );
    assert.deepEqual(Object.fromEntries(d.byReason.map((r) => [r.reason, r.messages])), reasons);
  });

  it('health: every service probed for real; the isolated batch queue has no worker', async () => {
    const h = await ok<{ services: { name: string; state: string; reason?: string }[] }>('/api/health');
    const by = Object.fromEntries(h.services.map((s) => [s.name, s]));
    for (const name of ['kafka', 'hdfs', 'cassandra', 'postgres', 'temporal', 'streaming-worker'])
      assert.equal(by[name]?.state, 'up', `${name}: ${by[name]?.reason}`);
    assert.equal(by['batch-worker']?.state, 'down');
    assert.match(
      by['batch-worker']?.reason ?? '',
      new RegExp(`no worker polls task queue ${ds.iso.config.BATCH_TASK_QUEUE}`),
    );
  });

  it('a service that does not answer is down with the reason', async () => {
    const dead = await freePort();
    const config = loadConfig({
      ...ds.iso.env,
      WEBHDFS_URL: `http://127.0.0.1:${dead}`,
      DASHBOARD_STREAM_METRICS_URLS: `http://127.0.0.1:${dead}`,
    });
    const other = await startDashboard(config, { port: 0 });
    try {
      const res = await fetch(`${other.url}/api/health`);
      const h = (await res.json()) as { services: { name: string; state: string; reason?: string }[] };
      const hdfs = h.services.find((s) => s.name === 'hdfs');
      assert.equal(hdfs?.state, 'down');
      assert.match(hdfs?.reason ?? '', new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${dead}`));
      // The worker's metrics endpoint is wrong, but it is a member of its consumer group: still up.
      assert.equal(h.services.find((s) => s.name === 'streaming-worker')?.state, 'up');
    } finally {
      await other.close();
    }
  });

  it('analytics: revenue per day, orders by status, funnel and top products equal values computed from the events', async () => {
    const exp = expectedMarts(ds.events);
    const rev = await ok<{
      days: { date: string; revenue: number; orders_completed: number; orders_failed: number }[];
      totals: { revenue: number };
    }>(`/api/analytics/revenue?${range}`);
    assert.deepEqual(
      rev.days.map((d) => d.date),
      [...exp.revenueByDay.keys()].sort(),
    );
    for (const d of rev.days) {
      const x = exp.revenueByDay.get(d.date);
      assert.ok(x && near(d.revenue, x.revenue, 0.05), `${d.date}: ${d.revenue} vs ${x?.revenue}`);
      assert.equal(d.orders_completed, x.completed.size);
      assert.equal(d.orders_failed, x.failed.size);
    }
    const orders = await ok<{ byStatus: { status: string; orders: number }[] }>(
      `/api/analytics/orders?${range}`,
    );
    const byStatus = Object.fromEntries(orders.byStatus.map((s) => [s.status, s.orders]));
    assert.equal(byStatus.completed, exp.statusOrders.completed?.size);
    assert.equal(byStatus.failed, exp.statusOrders.failed?.size);
    const funnel = await ok<{ totals: Record<string, number> }>(`/api/analytics/funnel?${range}`);
    for (const k of ['sessions', 'searched', 'purchased', 'completed'] as const)
      assert.equal(funnel.totals[k], exp.funnel[k], k);
    const products = await ok<{
      top: { product_id: string; revenue: number }[];
      categories: { revenue: number }[];
    }>(`/api/analytics/products?${range}&limit=5`);
    const best = [...exp.productRevenue.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    assert.equal(products.top.length, 5);
    assert.equal(products.top[0]?.product_id, best?.[0]);
    assert.ok(near(products.top[0]?.revenue ?? 0, best?.[1] ?? -1, 0.05));
    const catTotal = products.categories.reduce((a, c) => a + c.revenue, 0);
    assert.ok(near(catTotal, rev.totals.revenue, 0.05), `${catTotal} vs ${rev.totals.revenue}`);
    const users = await ok<{ cities: { users: number; average_age: number }[] }>(
      '/api/analytics/users?limit=500',
    );
    assert.ok(users.cities.length > 0);
    const known = await ds.pool.query(
      `SELECT count(*)::int AS n FROM ${ds.iso.config.WAREHOUSE_SCHEMA}.dim_users WHERE is_known`,
    );
    assert.equal(
      users.cities.reduce((a, c) => a + c.users, 0),
      known.rows[0].n,
    );
  });

  it('batch runs and the schedule are what Temporal says', async () => {
    // The shared pipeline's batch runs, on the real task queue.
    const config = loadConfig({ ...ds.iso.env, BATCH_TASK_QUEUE: loadConfig().BATCH_TASK_QUEUE });
    const other = await startDashboard(config, { port: 0 });
    const client = await connectTemporal(config);
    try {
      const expected = [];
      for await (const wf of client.workflow.list({
        query: `WorkflowType = '${BATCH_WORKFLOW_TYPE}' AND TaskQueue = '${config.BATCH_TASK_QUEUE}'`,
      })) {
        expected.push(wf);
        if (expected.length >= 5) break;
      }
      const res = await fetch(`${other.url}/api/batch/runs?limit=5`);
      const body = (await res.json()) as {
        runs: { workflowId: string; runId: string; status: string; rowsLoaded?: number; url: string }[];
      };
      assert.equal(res.status, 200, JSON.stringify(body));
      // Runs that started between the two listings may shift the window: compare the common ids.
      const mine = new Map(body.runs.map((r) => [r.runId, r]));
      const common = expected.filter((w) => mine.has(w.runId));
      assert.ok(common.length >= Math.min(expected.length, 5) - 1);
      for (const w of common) {
        const r = mine.get(w.runId);
        assert.equal(r?.workflowId, w.workflowId);
        if (w.status.name !== 'RUNNING') assert.equal(r?.status, w.status.name);
        assert.ok(r?.url.startsWith(`${config.TEMPORAL_UI_URL}/namespaces/`));
        if (w.status.name === 'COMPLETED') {
          const result = (await client.workflow.getHandle(w.workflowId, w.runId).result()) as {
            load: { inserted: number };
          };
          assert.equal(r?.rowsLoaded, result.load.inserted);
        }
      }
      const sres = await fetch(`${other.url}/api/batch/schedule`);
      const s = (await sres.json()) as { exists: boolean; paused: boolean; nextRuns: string[] };
      const d = await client.schedule
        .getHandle(SCHEDULE_ID)
        .describe()
        .catch(() => undefined);
      assert.equal(s.exists, d !== undefined);
      if (d) {
        assert.equal(s.paused, d.state.paused);
        assert.equal(s.nextRuns[0], d.info.nextActionTimes[0]?.toISOString());
      }
    } finally {
      await client.connection.close();
      await other.close();
    }
  });

  it('bad parameters get a 400 with a message naming them, never a database error', async () => {
    const cases: [string, RegExp][] = [
      ['/api/overview?range=2h', /range: expected one of/],
      ['/api/overview?from=yesterday', /from: expected an ISO 8601/],
      ['/api/overview?from=2026-01-02&to=2026-01-01', /from: must be before to/],
      ['/api/overview?from=2025-01-01&to=2026-01-01', /at most 31 days/],
      ['/api/events?type=refund', /type: expected one of search/],
      ['/api/events?level=LOUD', /level: expected one of/],
      ['/api/events?limit=0', /limit: expected a whole number from 1 to 500/],
      ['/api/events?limit=abc', /limit: expected a whole number/],
      [`/api/events?user=${encodeURIComponent("u'; DROP TABLE x; --")}`, /user: expected a user id/],
      [
        '/api/events?country=United%20States%20of%20America',
        /country: at most 8 characters|country: expected/,
      ],
      ['/api/events?sort=asc', /sort: unknown parameter/],
      ['/api/events?type=error&type=search', /type: given more than once/],
      ['/api/analytics/products?limit=1000', /limit: expected a whole number from 1 to 100/],
      ['/api/health?x=1', /x: unknown parameter/],
      ['/api/events/stream?level=nope', /level: expected one of/],
    ];
    for (const [path, re] of cases) {
      const r = await get<{ error: string }>(path);
      assert.equal(r.status, 400, path);
      assert.match(r.body.error, re, path);
    }
    assert.equal((await get('/api/nope')).status, 404);
  });

  it('server-sent events deliver new events matching the filter, once each', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${dash.url}/api/events/stream?type=search`, { signal: ctrl.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const got: { event_id: string; event_type: string }[] = [];
    const reading = (async () => {
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buf += Buffer.from(value as Uint8Array).toString();
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          const msg = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^event: events\ndata: (.*)$/m.exec(msg);
          if (data) got.push(...(JSON.parse(data[1] as string) as typeof got));
          i = buf.indexOf('\n\n');
        }
      }
    })();
    // Let the stream learn what is there, then send fresh events.
    await new Promise((r) => setTimeout(r, 2500));
    const fresh = [...new EventGenerator({ seed: `${ds.iso.id}-live`, realTime: true }).take(40)];
    await send(
      ds.iso,
      fresh.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
    );
    const searches = fresh.filter((e) => e.event_type === 'search');
    await waitFor('the live searches', async () => got.length >= searches.length, 60_000, 500);
    await new Promise((r) => setTimeout(r, 2000));
    ctrl.abort();
    await reading;
    assert.ok(got.every((e) => e.event_type === 'search'));
    assert.deepEqual(got.map((e) => e.event_id).sort(), searches.map((e) => e.event_id).sort());
    ds.events.push(...fresh);
  });

  it('lag grows by what is produced while no worker consumes', async () => {
    await stopWorker(ds.worker);
    const more = [...new EventGenerator({ seed: `${ds.iso.id}-more`, realTime: true }).take(123)];
    await send(
      ds.iso,
      more.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
    );
    const l = await waitFor(
      'lag of 123',
      async () => {
        const r = await ok<{ total: number }>('/api/lag');
        return r.total === 123 ? r : undefined;
      },
      30_000,
    );
    assert.equal(l.total, 123);
    // Answers may be served up to a few seconds old while a refresh runs.
    const w = await waitFor('the worker shown as down', async () => {
      const h = await ok<{ services: { name: string; state: string; reason?: string }[] }>('/api/health');
      const s = h.services.find((x) => x.name === 'streaming-worker');
      return s?.state === 'down' ? s : undefined;
    });
    assert.equal(w?.state, 'down');
    assert.match(w?.reason ?? '', /no member in consumer group/);
  });
});
