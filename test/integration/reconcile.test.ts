// The reconciliation on the real stack: a batch run over closed hours (compacted into the lake)
// records every hour it touched in the ledger with no drift and moves the marts' watermark; a row
// deleted by hand from Cassandra then shows as drift of exactly that hour and store, and the
// ledger's check of the closed hour posts to the alert webhook (a local HTTP server here).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBatchActivities } from '../../activities/batch-activities.ts';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { batchPoolSize } from '../../workers/batch-worker.ts';
import type { HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';
import { batchScenario, writeInRounds } from '../helpers/faults.ts';

describe('reconciliation ledger, watermark and drift alert', () => {
  const { iso, schema, warehouse, pool, count } = batchScenario('reconcile', { COMPACT_GRACE_MINUTES: '1' });
  const posted: string[] = [];
  const webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      posted.push((JSON.parse(body) as { text: string }).text);
      res.end('ok');
    });
  });
  const cassandra = createCassandra(iso.config);
  const workerPool = createPgPool(iso.config, batchPoolSize(iso.config));
  let config = iso.config;
  let client: Client;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  // About 100 minutes of events that ended 70 minutes ago: two or three closed hours.
  const now = Date.now();
  const events: LogEvent[] = [
    ...new EventGenerator({ seed: iso.id, start: new Date(now - 170 * 60_000), rate: 600 / (100 * 60) }).take(
      600,
    ),
  ];
  const hourOf = (e: LogEvent) => new Date(e.timestamp).toISOString().slice(0, 13);

  before(async () => {
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    config = {
      ...iso.config,
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
    };
    await writeInRounds(iso, events);
    client = await connectTemporal(config);
    connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    await cassandra.connect();
    worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.BATCH_TASK_QUEUE,
      workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
      activities: createBatchActivities({ config, pool: workerPool, hdfs: new Hdfs(config), cassandra }),
      maxConcurrentActivityTaskExecutions: config.BATCH_WORKER_ACTIVITIES,
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await client?.connection.close();
    await workerPool.end();
    await cassandra.shutdown();
    webhook.close();
  });

  it('a run records each touched hour with every event in every store, and the watermark', async () => {
    const result = (await client.workflow.execute('hdfsToWarehouse', {
      taskQueue: config.BATCH_TASK_QUEUE,
      workflowId: `test-reconcile-${randomUUID()}`,
      args: [{ dbt: true }],
    })) as HdfsToWarehouseResult;
    const owed = new Map<string, number>();
    for (const e of events) owed.set(hourOf(e), (owed.get(hourOf(e)) ?? 0) + 1);
    assert.ok(result.compacted.length >= 2, `${result.compacted.length} hours compacted`);
    assert.deepEqual(result.ledger?.drifted, []);
    assert.equal(result.ledger?.alerted, false, 'no drift, no alert');
    assert.deepEqual(posted, []);
    const ledger = await pool.query<{ hour: string; closed: boolean; counts: number[]; drift: number }>(
      `SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour, closed,
              ARRAY[hdfs, cassandra, postgres, marts, quarantined] AS counts,
              abs(drift_cassandra) + abs(drift_postgres) + abs(drift_marts) AS drift
       FROM ${schema}.hour_ledger ORDER BY hour`,
    );
    assert.deepEqual(
      ledger.rows.map((r) => [r.hour, r.closed, r.counts, r.drift]),
      [...owed].sort().map(([h, n]) => [h, true, [n, n, n, n, 0], 0]),
      'every hour of the events, closed, each store holding all of its events',
    );
    const last = [...owed.keys()].sort().at(-1) as string;
    assert.equal(
      result.ledger?.watermark.completeUntil,
      new Date(Date.parse(`${last}:00:00Z`) + 3_600_000).toISOString(),
    );
    const mark = await pool.query<{ complete_until: Date }>(
      `SELECT complete_until FROM ${warehouse}.pipeline_watermark`,
    );
    assert.equal(mark.rows[0]?.complete_until.toISOString(), result.ledger?.watermark.completeUntil);
  });

  it('a row deleted from Cassandra is drift of its hour and store, and alerts', async () => {
    const lost = events[Math.floor(events.length / 2)] as LogEvent;
    const hour = hourOf(lost);
    await cassandra.execute(
      `DELETE FROM ${config.CASSANDRA_KEYSPACE}.ecomm_log WHERE day = ? AND hour = ? AND timestamp = ? AND event_id = ?`,
      [hour.slice(0, 10), Number(hour.slice(11)), new Date(lost.timestamp), lost.event_id],
      { prepare: true },
    );
    const activities = createBatchActivities({ config, pool: workerPool, hdfs: new Hdfs(config), cassandra });
    const hours = [...new Set(events.map(hourOf))].map((h) => ({
      dt: h.slice(0, 10),
      hour: Number(h.slice(11)),
    }));
    const checked = await activities.recordLedger(hours, 'test-after-loss');
    assert.deepEqual(checked.drifted, [hour]);
    for (const r of checked.hours)
      assert.deepEqual(r.drift, { cassandra: r.hour === hour ? 1 : 0, postgres: 0, marts: 0 }, r.hour);
    assert.equal(checked.alerted, true);
    assert.equal(posted.length, 1);
    assert.match(posted[0] as string, new RegExp(`${hour}: cassandra 1, postgres 0, marts 0`));
    assert.equal(
      await count(`SELECT drift_cassandra AS n FROM ${schema}.hour_ledger WHERE hour = '${hour}:00:00Z'`),
      1,
      'the ledger records the drift',
    );
    // The marts are still complete: the watermark concerns PostgreSQL and the marts.
    assert.ok(checked.watermark.completeUntil);
  });

  it('a Cassandra keyspace that does not exist is drift of every hour, not a failed run', async () => {
    const missing = { ...config, CASSANDRA_KEYSPACE: `${config.CASSANDRA_KEYSPACE}_never_migrated` };
    const activities = createBatchActivities({
      config: missing,
      pool: workerPool,
      hdfs: new Hdfs(missing),
      cassandra,
    });
    const owed = new Map<string, number>();
    for (const e of events) owed.set(hourOf(e), (owed.get(hourOf(e)) ?? 0) + 1);
    const hours = [...owed.keys()].map((h) => ({ dt: h.slice(0, 10), hour: Number(h.slice(11)) }));
    const before = posted.length;
    const checked = await activities.recordLedger(hours, 'test-no-keyspace');
    assert.deepEqual(checked.drifted, [...owed.keys()].sort());
    for (const r of checked.hours) {
      assert.equal(r.counts.cassandra, 0, r.hour);
      assert.equal(r.drift.cassandra, owed.get(r.hour), r.hour);
      assert.equal(r.drift.postgres, 0, r.hour);
    }
    assert.equal(checked.alerted, true);
    assert.equal(posted.length, before + 1);
  });
});
