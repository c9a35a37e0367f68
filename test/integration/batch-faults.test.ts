// kill -9 of the batch worker in the middle of a load: a new worker finishes the run, and every
// event is in its table exactly once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TABLE_OF } from '../../activities/warehouse-schema.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import { logpipeNodeArgs } from '../../lib/node-args.ts';
import { EventGenerator } from '../../producers/generator.ts';
import type { HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';
import {
  createTopics,
  hdfsEventIds,
  hdfsFiles,
  isolated,
  send,
  startWorker,
  stopWorker,
  waitFor,
} from '../helpers/pipeline.ts';

const TABLES = Object.values(TABLE_OF);

describe('batch worker killed during a load', () => {
  const schema = `raw_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const iso = isolated('batchkill', {
    WAREHOUSE_RAW_SCHEMA: schema,
    BATCH_TASK_QUEUE: `batch-${schema}`,
    HDFS_ROLL_MAX_EVENTS: '40',
    HDFS_ROLL_MAX_AGE_MS: '200',
    // No hour closes during the test, whatever the clock says: this case is about the load.
    COMPACT_GRACE_MINUTES: '600',
  });
  const pool = createPgPool(iso.config);
  after(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  const batchWorker = () => {
    const child = spawn(process.execPath, logpipeNodeArgs(['worker', 'batch']), {
      env: iso.env,
      stdio: 'ignore',
    });
    return { child, exited: new Promise<void>((r) => child.on('exit', () => r())) };
  };

  it('a new worker completes the run with exact counts', async () => {
    await createTopics(iso);
    const streaming = startWorker(iso);
    const events = [
      ...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 10 * 60_000), rate: 20 }).take(6000),
    ];
    // In rounds, each rolled to HDFS before the next, so the load has many files to kill it among.
    for (let i = 0; i < events.length; i += 400) {
      const round = events.slice(i, i + 400);
      await send(
        iso,
        round.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
      );
      await waitFor(
        'the round in HDFS',
        async () => {
          const raw = await hdfsEventIds(iso);
          return round.every((e) => raw.has(e.event_id)) ? true : undefined;
        },
        120_000,
        200,
      );
    }
    await stopWorker(streaming);
    assert.ok((await hdfsFiles(iso)).length >= 20, 'enough files to kill the load among');

    const client = await connectTemporal(iso.config);
    const first = batchWorker();
    const handle = await client.workflow.start('hdfsToWarehouse', {
      taskQueue: iso.config.BATCH_TASK_QUEUE,
      workflowId: `test-kill-${randomUUID()}`,
      args: [{}],
    });
    // Kill the worker once some files, but not all, are loaded.
    const loadedSome = await waitFor(
      'the load to be under way',
      async () => {
        const r = await pool
          .query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.load_manifest`)
          .catch(() => undefined);
        const n = Number(r?.rows[0]?.n ?? 0);
        return n >= 3 ? n : undefined;
      },
      120_000,
      50,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const files = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.load_manifest`);
    await sleep(500);
    const second = batchWorker();
    try {
      const result = (await handle.result()) as HdfsToWarehouseResult;
      const total = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.load_manifest`);
      assert.ok(
        Number(files.rows[0]?.n) < Number(total.rows[0]?.n),
        `killed after ${loadedSome} of ${total.rows[0]?.n} files`,
      );
      assert.ok(result.load.inserted <= events.length);
      let rows = 0;
      for (const t of TABLES) {
        const r = await pool.query<{ rows: string; distinct: string }>(
          `SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct FROM ${schema}.${t}`,
        );
        assert.equal(r.rows[0]?.rows, r.rows[0]?.distinct, `${t}: each event once`);
        rows += Number(r.rows[0]?.rows);
      }
      assert.equal(rows, events.length, 'every event loaded, none twice');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
      await client.connection.close();
    }
  });
});
