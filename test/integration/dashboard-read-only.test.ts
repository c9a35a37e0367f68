// The dashboard against the real stack is read-only: POST, PUT, PATCH and DELETE answer 405 with an
// Allow header and change nothing in Cassandra, Kafka or what the API shows; its PostgreSQL
// sessions are read-only, so PostgreSQL itself refuses a write through its pool; its dead-letter
// reader commits nothing. (test/unit/dashboard-read-only.test.ts checks the code the same way.)
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AssignerProtocol } from 'kafkajs';
import type pg from 'pg';
import { type Dashboard, startDashboard } from '../../dashboard/server.ts';
import { createKafka } from '../../lib/clients/kafka.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { dlqTopic } from '../../lib/config.ts';
import { EventGenerator } from '../../producers/generator.ts';
import {
  cassandraEventIds,
  createTopics,
  isolated,
  send,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

const N = 40;
const BAD_LINES = ['not json {', '[1, 2, 3]'];

describe('the dashboard is read-only (real Kafka, Cassandra, PostgreSQL)', () => {
  // Every API answer computed afresh, so a change would show.
  const iso = isolated('dash_ro', { DASHBOARD_RESPONSE_CACHE_MS: '0' });
  const kafka = createKafka(iso.config, 'test-dash-ro');
  const admin = kafka.admin();
  const table = `public.${iso.id.toLowerCase()}`;
  let worker: WorkerHandle;
  let dash: Dashboard;
  let pool: pg.Pool;

  const json = async (path: string) => {
    const res = await fetch(`${dash.url}${path}`);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(body)}`);
    return body;
  };

  /** What a write through the dashboard could change: rows, topic ends, the group's offsets, the API's answers. */
  const state = async () => {
    const rows = await cassandraEventIds(iso);
    const offsets = async (topic: string) =>
      (await admin.fetchTopicOffsets(topic)).map((p) => `${p.partition}:${p.low}-${p.high}`).sort();
    const committed = (
      await admin.fetchOffsets({ groupId: iso.config.STREAM_GROUP_ID, topics: [iso.config.KAFKA_TOPIC] })
    )
      .flatMap((t) => t.partitions.map((p) => `${p.partition}:${p.offset}`))
      .sort();
    const overview = await json('/api/overview?range=1h');
    const lag = await json('/api/lag');
    return {
      rows: [...rows.entries()].sort(),
      topic: await offsets(iso.config.KAFKA_TOPIC),
      dlq: await offsets(dlqTopic(iso.config)),
      committed,
      overview: { events: overview.events, byType: overview.byType, revenue: overview.revenue },
      lag: lag.partitions,
    };
  };

  before(async () => {
    await createTopics(iso);
    worker = startWorker(iso);
    const events = [
      ...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 60_000), rate: 100 }).take(N),
    ];
    await send(iso, [
      ...events.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
      ...BAD_LINES.map((value, i) => ({ key: `bad-${i}`, value })),
    ]);
    await waitFor('the events in Cassandra', async () => (await cassandraEventIds(iso)).size >= N);
    await admin.connect();
    await waitFor('the group committed everything', async () => {
      const ends = await admin.fetchTopicOffsets(iso.config.KAFKA_TOPIC);
      const done = await admin.fetchOffsets({
        groupId: iso.config.STREAM_GROUP_ID,
        topics: [iso.config.KAFKA_TOPIC],
      });
      const at = new Map((done[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
      return ends.every((e) => at.get(e.partition) === e.high);
    });
    // Nothing more moves: the worker is stopped before the comparisons.
    await stopWorker(worker);
    dash = await startDashboard(iso.config, { port: 0 });
    pool = createPgPool(iso.config, 2);
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
    await pool.query(`INSERT INTO ${table} VALUES (1, 'before')`);
  });
  after(async () => {
    await dash?.close();
    if (worker) await stopWorker(worker);
    await admin.disconnect().catch(() => {});
    await pool?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await pool?.end();
  });

  it('POST, PUT, PATCH and DELETE answer 405 with Allow: GET, HEAD and change nothing', async () => {
    const before = await state();
    assert.equal(before.rows.length, N);
    assert.equal(before.overview.events, N);
    const paths = [
      '/',
      '/index.html',
      '/healthz',
      '/api/overview?range=1h',
      '/api/events?limit=10',
      '/api/events/stream',
      '/api/lag',
      '/api/dead-letters',
      '/api/batch/runs',
      '/api/batch/schedule',
      '/api/analytics/revenue',
      '/api/nope',
    ];
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const path of paths) {
        const res = await fetch(`${dash.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ event_id: 'x', event_type: 'search', query: "'; DROP TABLE x; --" }),
        });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.get('allow'), 'GET, HEAD', `${method} ${path}`);
        assert.match(((await res.json()) as { error: string }).error, /read-only/);
      }
    }
    // HEAD is answered like GET, without a body.
    const head = await fetch(`${dash.url}/api/overview?range=1h`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.deepEqual(await state(), before);
  });

  it('answers only to its own host names: a rebinding page under another name gets 421', async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(`${dash.url}/api/overview?range=1h`);
        const req = request(
          { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers: { host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    assert.equal(await status('attacker.example:8501'), 421);
    assert.equal(await status('127.0.0.1.attacker.example'), 421);
    assert.equal(await status(`localhost:${new URL(dash.url).port}`), 200);
    assert.equal(await status(new URL(dash.url).host), 200);
  });

  it('the dead-letter reader reads with its own group and commits nothing', async () => {
    const d = await waitFor(
      'the dead-letter topic read to its end',
      async () => {
        const r = (await json('/api/dead-letters')) as { caughtUp: boolean; read: number };
        return r.caughtUp && r.read === BAD_LINES.length ? r : undefined;
      },
      60_000,
    );
    assert.equal(d.read, BAD_LINES.length);
    // This dashboard's reader: the dashboard group whose member subscribes to this test's topic.
    const dlq = dlqTopic(iso.config);
    const ids = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((id) => id.startsWith('logpipe-dashboard-'));
    const mine = (await admin.describeGroups(ids)).groups.filter((g) =>
      g.members.some((m) => AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics.includes(dlq)),
    );
    assert.equal(mine.length, 1, 'one reader group of its own');
    const group = mine[0]?.groupId as string;
    assert.notEqual(group, iso.config.STREAM_GROUP_ID);
    const offsets = await admin.fetchOffsets({ groupId: group, topics: [dlq] });
    assert.ok(offsets[0]?.partitions.length);
    for (const p of offsets.flatMap((t) => t.partitions)) assert.equal(p.offset, '-1', `${group} committed`);
  });

  it("PostgreSQL refuses a write through the dashboard's pool; reads work", async () => {
    assert.equal(
      (await dash.pool.query('SHOW default_transaction_read_only')).rows[0]?.default_transaction_read_only,
      'on',
    );
    const refused = async (sql: string) => {
      await assert.rejects(dash.pool.query(sql), (err: { code?: string; message?: string }) => {
        // 25006: read_only_sql_transaction
        assert.equal(err.code, '25006', `${sql}: ${err.message}`);
        return true;
      });
    };
    await refused(`INSERT INTO ${table} VALUES (2, 'through the dashboard')`);
    await refused(`UPDATE ${table} SET note = 'changed'`);
    await refused(`DELETE FROM ${table}`);
    await refused(`TRUNCATE ${table}`);
    await refused(`DROP TABLE ${table}`);
    await refused(`CREATE TABLE ${table}_2 (id int)`);
    await refused(`CREATE SCHEMA ${iso.id.toLowerCase()}`);
    const rows = await pool.query(`SELECT id, note FROM ${table}`);
    assert.deepEqual(rows.rows, [{ id: 1, note: 'before' }]);
    // The dashboard's own reads of PostgreSQL still answer.
    assert.deepEqual((await dash.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows, [{ n: 1 }]);
    const health = (await json('/api/health')) as {
      services: { name: string; state: string; reason?: string }[];
    };
    const pgHealth = health.services.find((s) => s.name === 'postgres');
    assert.equal(pgHealth?.state, 'up', pgHealth?.reason);
  });
});
