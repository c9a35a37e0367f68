// The dbt warehouse on the real stack's PostgreSQL: a known generated dataset is loaded into the raw
// tables by the batch's own loader, `dbt build` runs in three incremental steps, and the marts are
// compared with values computed here in TypeScript from the same events; then a full refresh must
// give the same marts row for row. The incremental steps run on the batch worker's long-lived dbt
// runner (one parse, the manifest reused); the full refresh in a dbt process of its own.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBatchActivities } from '../../activities/batch-activities.ts';
import { loadFileText } from '../../activities/load-file.ts';
import { schemaDdl, TABLE_OF, warehouseLock } from '../../activities/warehouse-schema.ts';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { loadConfig } from '../../lib/config.ts';
import { batchBuildArgs, type DbtInvocation, dbtPython, failedNodes, invokeDbt } from '../../lib/dbt.ts';
import { DbtServer } from '../../lib/dbt-server.ts';
import { parseEvent } from '../../lib/events/parse.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator, toOriginalFormat } from '../../producers/generator.ts';

const MARTS = [
  'dim_users',
  'dim_products',
  'dim_date',
  'fact_events',
  'fact_orders',
  'fact_sessions',
  'revenue_daily',
  'session_funnel_daily',
  'error_rates_hourly',
];

const day = (ts: string) => ts.slice(0, 10);
const cents = (n: number | string) => Number(n).toFixed(2);

describe('dbt warehouse (real dbt and PostgreSQL)', () => {
  const id = randomUUID().replaceAll('-', '').slice(0, 10);
  const config = loadConfig({
    ...process.env,
    WAREHOUSE_RAW_SCHEMA: `raw_${id}`,
    WAREHOUSE_SCHEMA: `wh_${id}`,
  });
  const raw = config.WAREHOUSE_RAW_SCHEMA;
  const wh = config.WAREHOUSE_SCHEMA;
  const frozen = `wh_${id}_incremental`;
  const paths = {
    targetPath: join(tmpdir(), `logpipe-dbt-${id}`, 'target'),
    logPath: join(tmpdir(), `logpipe-dbt-${id}`, 'logs'),
  };
  const pool = createPgPool(config);
  const cassandra = createCassandra(config);
  const activities = createBatchActivities({ config, pool, hdfs: new Hdfs(config), cassandra });

  // The dataset: two days of sessions, a slice replayed (duplicates), some events in the original
  // system's format (no event_id, no payment_method), and some from a user and product missing
  // from the catalog.
  const start = new Date(Date.now() - 2 * 86_400_000);
  const generated = [...new EventGenerator({ seed: `wh-${id}`, start, rate: 0.05 }).take(6000)];
  const lines: string[] = generated.map((e, i) => {
    if (i % 20 === 7) return JSON.stringify(toOriginalFormat(e));
    if (i % 97 === 5)
      return JSON.stringify({ ...e, user_id: 'user_outside_catalog', product_id: 'prod_outside_catalog' });
    return JSON.stringify(e);
  });
  // Written by hand: second completions (new event ids) of an order the first step completed,
  // loaded by the last step, one in the order's own country and one in another. An order counts
  // once per day, country and category in revenue_daily, across incremental runs as in a full
  // refresh.
  const completed = generated
    .slice(0, 2500)
    .find((e, i) => e.event_type === 'order_complete' && i % 20 !== 7);
  assert.ok(completed, 'the first step completes an order');
  const secondCompletions = [
    { ...completed, event_id: `${completed.event_id}-again` },
    {
      ...completed,
      event_id: `${completed.event_id}-elsewhere`,
      geo_location: { ...completed.geo_location, country: 'ZZ' },
    },
  ].map((e) => JSON.stringify(e));
  lines.push(...secondCompletions);
  const parts = [
    lines.slice(0, 2500),
    lines.slice(2500, 4500),
    [...lines.slice(4500), ...lines.slice(4000, 4300)],
  ];
  const events = new Map<string, LogEvent>();
  for (const line of lines) {
    const r = parseEvent(line, {
      maxBytes: 1 << 20,
      maxDepth: 64,
      maxFutureMs: Infinity,
      maxPastMs: Infinity,
    });
    assert.ok(r.ok, 'every dataset line is valid');
    if (r.ok) events.set(r.event.event_id, r.event);
  }

  const server = new DbtServer(dbtPython(config.LOGPIPE_CACHE_DIR));
  const dbt = async (args: string[], options: { server?: DbtServer } = {}): Promise<DbtInvocation> => {
    const res = await invokeDbt(config, args, paths, options);
    assert.equal(
      res.exitCode,
      0,
      `dbt ${args.join(' ')} failed:\n${res.tail}\n${JSON.stringify(failedNodes(res.results))}`,
    );
    assert.deepEqual(failedNodes(res.results), []);
    return res;
  };

  before(async () => {
    for (const ddl of schemaDdl(raw)) await pool.query(ddl);
    await activities.loadCatalog();
  });

  after(async () => {
    server.stop();
    for (const s of [raw, wh, `${wh}_staging`, `${wh}_snapshots`, frozen])
      await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await pool.end();
    await cassandra.shutdown();
  });

  it('dbt build passes in three incremental steps, with price changes between them', async () => {
    let built: DbtInvocation | undefined;
    const parsed: (boolean | undefined)[] = [];
    for (const [i, part] of parts.entries()) {
      const load = await loadFileText(
        pool,
        raw,
        { path: `/test/${id}/part-${i}.ndjson`, kind: 'raw', dt: day(start.toISOString()), hour: 0 },
        `${part.join('\n')}\n`,
        `test-${id}`,
      );
      assert.equal(load.rejected, 0);
      // Prices move between loads: the snapshot must keep each product's history.
      await pool.query(
        `UPDATE ${raw}.products SET price = price + 1, _loaded_at = now() WHERE product_id IN (SELECT product_id FROM ${raw}.products ORDER BY product_id LIMIT 50)`,
      );
      built = await dbt(batchBuildArgs(true), { server });
      parsed.push(built.parsed);
    }
    assert.deepEqual(parsed, [true, false, false], 'the runner parsed once and reused its manifest');
    const names = new Set(built?.results.map((r) => r.name));
    for (const m of MARTS) assert.ok(names.has(m), `${m} built`);
    assert.ok(built?.results.some((r) => r.resourceType === 'snapshot' && r.status === 'success'));
    const tests = built?.results.filter((r) => r.resourceType === 'test') ?? [];
    assert.ok(tests.length >= 40, `${tests.length} tests ran`);
    // The second completions written by hand are what this data-quality test warns about.
    const warned = tests.filter((t) => t.status !== 'pass').map((t) => `${t.name}: ${t.status}`);
    assert.deepEqual(warned, ['assert_completed_order_once: warn']);
    const versions = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${wh}.dim_products WHERE version = 3`,
    );
    assert.equal(Number(versions.rows[0]?.n), 50, 'three price versions of the changed products');
  });

  it('fact_events holds every event once, inferred members for ids outside the catalog', async () => {
    const r = await pool.query<{ n: string; d: string }>(
      `SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM ${wh}.fact_events`,
    );
    assert.equal(Number(r.rows[0]?.n), events.size);
    assert.equal(Number(r.rows[0]?.d), events.size);
    const inferred = await pool.query<{ user_id: string; is_known: boolean }>(
      `SELECT user_id, is_known FROM ${wh}.dim_users WHERE NOT is_known`,
    );
    assert.deepEqual(inferred.rows, [{ user_id: 'user_outside_catalog', is_known: false }]);
    const product = await pool.query<{ category: string }>(
      `SELECT category FROM ${wh}.dim_products WHERE product_id = 'prod_outside_catalog'`,
    );
    assert.deepEqual(product.rows, [{ category: 'Unknown' }]);
  });

  it('revenue per day and country matches the completed orders produced', async () => {
    const expected = new Map<string, number>();
    for (const e of events.values()) {
      if (e.event_type !== 'order_complete') continue;
      const k = `${day(e.timestamp)}|${e.geo_location.country}`;
      expected.set(k, (expected.get(k) ?? 0) + e.details.amount);
    }
    const r = await pool.query<{ k: string; revenue: string }>(
      `SELECT order_date::text || '|' || country AS k, sum(revenue) AS revenue FROM ${wh}.revenue_daily GROUP BY 1 HAVING sum(orders_completed) > 0`,
    );
    const actual = new Map(r.rows.map((row) => [row.k, cents(row.revenue)]));
    assert.deepEqual(actual, new Map([...expected].map(([k, v]) => [k, cents(v)])));
  });

  it('orders per status match the order events produced', async () => {
    const expected: Record<string, number> = { purchase: 0, completed: 0, failed: 0 };
    const status = { purchase: 'purchase', order_complete: 'completed', order_failed: 'failed' } as const;
    for (const e of events.values()) {
      if (!(e.event_type in status)) continue;
      const k = status[e.event_type as keyof typeof status];
      expected[k] = (expected[k] ?? 0) + 1;
    }
    const r = await pool.query<{ status: string; n: string }>(
      `SELECT status, count(DISTINCT event_id) AS n FROM ${wh}.fact_orders GROUP BY status`,
    );
    assert.deepEqual(Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)])), expected);
  });

  it('funnel counts per day and step match the sessions produced', async () => {
    const sessions = new Map<string, { started: string; types: Set<string> }>();
    for (const e of events.values()) {
      const s = sessions.get(e.session_id) ?? { started: e.timestamp, types: new Set<string>() };
      if (Date.parse(e.timestamp) < Date.parse(s.started)) s.started = e.timestamp;
      s.types.add(e.event_type);
      sessions.set(e.session_id, s);
    }
    const expected = new Map<string, number[]>();
    for (const s of sessions.values()) {
      const searched = s.types.has('search');
      const purchased = searched && s.types.has('purchase');
      const ordered = purchased && (s.types.has('order_complete') || s.types.has('order_failed'));
      const completed = ordered && s.types.has('order_complete');
      const failed = ordered && !completed;
      const row = expected.get(day(s.started)) ?? [0, 0, 0, 0, 0, 0];
      [true, searched, purchased, ordered, completed, failed].forEach((b, i) => {
        row[i] = (row[i] ?? 0) + (b ? 1 : 0);
      });
      expected.set(day(s.started), row);
    }
    const r = await pool.query<Record<string, string>>(
      `SELECT session_date::text AS d, sessions, searched, purchased, ordered, completed, failed FROM ${wh}.session_funnel_daily`,
    );
    const actual = new Map(
      r.rows.map((row) => [
        row.d as string,
        ['sessions', 'searched', 'purchased', 'ordered', 'completed', 'failed'].map((c) => Number(row[c])),
      ]),
    );
    assert.deepEqual(actual, expected);
  });

  it('error counts per code match the error events produced', async () => {
    const expected: Record<string, number> = {};
    for (const e of events.values()) {
      if (e.event_type === 'error') expected[e.error_code] = (expected[e.error_code] ?? 0) + 1;
    }
    const r = await pool.query<{ error_code: string; n: string }>(
      `SELECT error_code, sum(errors) AS n FROM ${wh}.error_rates_hourly GROUP BY error_code`,
    );
    assert.deepEqual(Object.fromEntries(r.rows.map((row) => [row.error_code, Number(row.n)])), expected);
  });

  it('a second completion of an order adds its revenue to its group, and the order only in a new group', async () => {
    assert.ok(completed && completed.event_type === 'order_complete');
    const groupOf = async (country: string) => {
      const r = await pool.query<{ orders: string; revenue: string }>(
        `SELECT sum(orders_completed) AS orders, sum(revenue) AS revenue FROM ${wh}.revenue_daily
          WHERE order_date = $1 AND country = $2`,
        [day(completed.timestamp), country],
      );
      return r.rows[0];
    };
    const expected = { orders: new Set<string>(), revenue: 0 };
    for (const e of events.values()) {
      if (e.event_type !== 'order_complete') continue;
      if (
        day(e.timestamp) !== day(completed.timestamp) ||
        e.geo_location.country !== completed.geo_location.country
      )
        continue;
      expected.revenue += e.details.amount;
    }
    const home = await groupOf(completed.geo_location.country);
    assert.equal(cents(home?.revenue ?? 0), cents(expected.revenue), 'both completions in the revenue');
    const elsewhere = await groupOf('ZZ');
    assert.equal(cents(elsewhere?.revenue ?? 0), cents(completed.details.amount));
    assert.equal(Number(elsewhere?.orders), 1, 'the order counts once in the other country');
    const distinct = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM (
         SELECT DISTINCT o.order_date, coalesce(o.country, 'Unknown'), coalesce(p.category, 'Unknown'), o.order_id
         FROM ${wh}.fact_orders o LEFT JOIN ${wh}.dim_products p USING (product_version_key)
         WHERE o.status = 'completed' AND o.order_date = $1 AND o.country = $2) d`,
      [day(completed.timestamp), completed.geo_location.country],
    );
    assert.equal(Number(home?.orders), Number(distinct.rows[0]?.n), 'each order once per group');
  });

  it('a full refresh gives the same marts as the incremental runs, row for row', async () => {
    await pool.query(`CREATE SCHEMA ${frozen}`);
    for (const m of MARTS) await pool.query(`CREATE TABLE ${frozen}.${m} AS SELECT * FROM ${wh}.${m}`);
    await dbt(['run', '--full-refresh']);
    for (const m of MARTS) {
      const diff = await pool.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM (SELECT * FROM ${wh}.${m} EXCEPT ALL SELECT * FROM ${frozen}.${m}) a)
              + (SELECT count(*) FROM (SELECT * FROM ${frozen}.${m} EXCEPT ALL SELECT * FROM ${wh}.${m}) b) AS n`,
      );
      assert.equal(Number(diff.rows[0]?.n), 0, `${m}: full refresh and incremental differ`);
      const count = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${wh}.${m}`);
      assert.ok(Number(count.rows[0]?.n) > 0, `${m} is not empty`);
    }
  });

  it('a session funnel built before it was incremental (no _loaded_at) is rebuilt whole by the next run', async () => {
    await pool.query(`ALTER TABLE ${wh}.session_funnel_daily DROP COLUMN _loaded_at`);
    await pool.query(`UPDATE ${wh}.session_funnel_daily SET sessions = sessions + 1000`);
    await dbt(['run', '--select', 'session_funnel_daily']);
    const diff = await pool.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM (SELECT * FROM ${wh}.session_funnel_daily EXCEPT ALL SELECT * FROM ${frozen}.session_funnel_daily) a)
            + (SELECT count(*) FROM (SELECT * FROM ${frozen}.session_funnel_daily EXCEPT ALL SELECT * FROM ${wh}.session_funnel_daily) b) AS n`,
    );
    assert.equal(Number(diff.rows[0]?.n), 0, 'rebuilt as the incremental runs built it');
  });

  it('dbt’s sessions and logpipe’s own run without JIT, set by the connection', async () => {
    const own = await pool.query<{ setting: string; source: string; boot_val: string }>(
      `SELECT setting, source, boot_val FROM pg_settings WHERE name = 'jit'`,
    );
    assert.deepEqual(own.rows[0], { setting: 'off', source: 'client', boot_val: 'on' });
    const shown = await dbt([
      'show',
      '--inline',
      "select setting || '/' || source as jit_setting from pg_settings where name = 'jit'",
      '--output',
      'json',
    ]);
    assert.match(shown.tail, /"jit_setting":\s*"off\/client"/);
  });

  it('dbt docs generate works and every mart column is described', async () => {
    await dbt(['docs', 'generate']);
    const manifest = JSON.parse(await readFile(join(paths.targetPath, 'manifest.json'), 'utf8')) as {
      nodes: Record<
        string,
        { name: string; resource_type: string; columns: Record<string, { description: string }> }
      >;
      exposures: Record<string, { name: string; depends_on: { nodes: string[] } }>;
    };
    const catalog = JSON.parse(await readFile(join(paths.targetPath, 'catalog.json'), 'utf8')) as {
      nodes: Record<string, { metadata: { name: string }; columns: Record<string, unknown> }>;
    };
    for (const m of MARTS) {
      const node = Object.values(manifest.nodes).find((n) => n.resource_type === 'model' && n.name === m);
      const table = Object.values(catalog.nodes).find((n) => n.metadata.name === m);
      assert.ok(node && table, `${m} in the manifest and the catalog`);
      for (const column of Object.keys(table.columns)) {
        assert.ok(node.columns[column]?.description, `${m}.${column} is described`);
      }
    }
    const exposure = Object.values(manifest.exposures).find((e) => e.name === 'power_bi_ecommerce_report');
    assert.ok(exposure, 'the Power BI exposure is declared');
    assert.ok(exposure.depends_on.nodes.some((n) => n.endsWith('.revenue_daily')));
  });

  it('a file load waits while dbt run holds the warehouse lock, and its rows are stamped after it', async () => {
    const holder = await pool.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [warehouseLock(raw)]);
      const more = [...new EventGenerator({ seed: `wh-${id}-late`, start }).take(50)];
      let finished = false;
      const load = loadFileText(
        pool,
        raw,
        { path: `/test/${id}/during-dbt.ndjson`, kind: 'raw', dt: day(start.toISOString()), hour: 0 },
        `${more.map((e) => JSON.stringify(e)).join('\n')}\n`,
        `test-${id}`,
      ).then((r) => {
        finished = true;
        return r;
      });
      await sleep(1500);
      assert.equal(finished, false, 'the load waits for the lock');
      const released = await holder.query<{ at: Date }>('SELECT clock_timestamp() AS at');
      await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [warehouseLock(raw)]);
      assert.equal((await load).inserted, 50);
      const stamped = await pool.query<{ first: Date }>(
        `SELECT min(_loaded_at) AS first FROM (${Object.values(TABLE_OF)
          .map((t) => `SELECT _loaded_at FROM ${raw}.${t} WHERE _source_file = $1`)
          .join(' UNION ALL ')}) x`,
        [`/test/${id}/during-dbt.ndjson`],
      );
      assert.ok(
        (stamped.rows[0]?.first as Date) > (released.rows[0]?.at as Date),
        'rows carry the time of their insert, after the lock was released',
      );
    } finally {
      holder.release();
    }
  });

  it('a batch build tests the new rows only: an id a new event of another type reuses is one warning', async () => {
    // A search event the facts hold, and a new purchase under its id, loaded after the build's
    // tests_since (a 'running' row in dbt_builds, as the batch's dbt step writes it).
    const owner = await pool.query<{ event_id: string }>(
      `SELECT event_id FROM ${wh}.fact_events WHERE event_type = 'search' ORDER BY event_id LIMIT 1`,
    );
    const reused = owner.rows[0]?.event_id;
    assert.ok(reused);
    const purchase = generated.find((e) => e.event_type === 'purchase');
    assert.ok(purchase);
    const fresh = [...new EventGenerator({ seed: `wh-${id}-reuse`, start }).take(20)];
    const runId = `test-${id}-reuse`;
    await pool.query(
      `INSERT INTO ${raw}.dbt_builds (run_id, tests_since, snapshot, status)
       VALUES ($1, clock_timestamp(), false, 'running')`,
      [runId],
    );
    try {
      const load = await loadFileText(
        pool,
        raw,
        { path: `/test/${id}/reuse.ndjson`, kind: 'raw', dt: day(start.toISOString()), hour: 0 },
        `${[{ ...purchase, event_id: reused }, ...fresh].map((e) => JSON.stringify(e)).join('\n')}\n`,
        runId,
      );
      assert.equal(load.inserted, 21);
      const built = await dbt(batchBuildArgs(false));
      const check = built.results.find((r) => r.name === 'assert_event_id_one_type');
      assert.deepEqual([check?.status, check?.failures], ['warn', 1], 'the new pair, and only it');
    } finally {
      await pool.query(`UPDATE ${raw}.dbt_builds SET status = 'success' WHERE run_id = $1`, [runId]);
    }
  });
});
