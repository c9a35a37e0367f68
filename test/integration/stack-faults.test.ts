// Servers of the stack restarted under the pipeline: the Kafka broker while the streaming worker
// consumes, PostgreSQL while the batch loads, the Temporal server during a batch run. Each case
// is bounded in time, restarts the server in a finally block, and ends with exact counts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { startService, stopService } from '../../stack/stack.ts';
import type { HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';
import {
  activityRuns,
  assertExactlyOnce,
  type BatchScenario,
  batchScenario,
  dataset,
  messages,
  service,
  stack,
  startBatchWorker,
  writeInRounds,
} from '../helpers/faults.ts';
import {
  cassandraEventIds,
  createTopics,
  hdfsFiles,
  isolated,
  send,
  startWorker,
  stopWorker,
  waitFor,
} from '../helpers/pipeline.ts';

describe('Kafka broker restarted while the streaming worker consumes', () => {
  it('the worker rides it out: every event in Cassandra and HDFS exactly once', async () => {
    // Rolls every 3 s: when the broker stops, offsets of rows already in both sinks are not
    // committed yet, and are fetched again after it returns.
    const iso = isolated('kafkarestart', { HDFS_ROLL_MAX_AGE_MS: '3000' });
    await createTopics(iso);
    const ctx = stack();
    const kafka = service('kafka');
    const events = dataset(iso, 5000);
    const w = startWorker(iso);
    try {
      // Everything sent before the restart is acknowledged: a producer retry cannot add copies.
      assert.equal((await send(iso, messages(events.slice(0, 4000)))).sent, 4000);
      await waitFor(
        'the worker under way',
        async () => ((await cassandraEventIds(iso)).size >= 1000 ? true : undefined),
        60_000,
        200,
      );
      try {
        await stopService(ctx, kafka);
        await sleep(5000);
        assert.equal(w.child.exitCode, null, 'the worker runs while the broker is down');
      } finally {
        await startService(ctx, kafka);
      }
      // More events once the broker is back.
      assert.equal((await send(iso, messages(events.slice(4000)))).sent, 1000);
      await assertExactlyOnce(iso, events);
      assert.equal(w.child.exitCode, null, 'the worker never stopped');
    } finally {
      await startService(ctx, kafka);
      await stopWorker(w);
    }
  });
});

describe('batch run through a PostgreSQL or Temporal server restart', () => {
  // One dataset in many small HDFS files, loaded by each case into raw tables of its own. No hour
  // closes during the test, whatever the clock says: these cases are about the load.
  const data = isolated('restartdata', { HDFS_ROLL_MAX_EVENTS: '40', HDFS_ROLL_MAX_AGE_MS: '200' });
  const events: LogEvent[] = [
    ...new EventGenerator({ seed: data.id, start: new Date(Date.now() - 10 * 60_000), rate: 20 }).take(6000),
  ];
  const env = { COMPACT_GRACE_MINUTES: '600' };
  const pgCase = batchScenario('pgrestart', env, data);
  const temporalCase = batchScenario('temporalrestart', env, data);
  let files = 0;

  before(async () => {
    await writeInRounds(data, events);
    files = (await hdfsFiles(data)).length;
    assert.ok(files >= 40, `${files} files: a load that lasts`);
  });

  /** result(), retried while the client's connection to a server that restarts fails. */
  async function resultOf(handle: WorkflowHandle): Promise<HdfsToWarehouseResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await handle.result()) as HdfsToWarehouseResult;
      } catch (err) {
        if (attempt >= 30 || !/unavailable|connect|transport|deadline/i.test(String(err))) throw err;
        await sleep(1000);
      }
    }
  }

  /**
   * Starts a run (no dbt) on a batch worker process, stops `server` once a few files are loaded,
   * keeps it down `downMs`, starts it again and returns the run's result; the worker must live
   * through it all.
   */
  async function restartDuringLoad(sc: BatchScenario, server: string, downMs: number) {
    const ctx = stack();
    const svc = service(server);
    const manifest = `SELECT count(*) AS n FROM ${sc.schema}.load_manifest`;
    const w = startBatchWorker(sc.iso);
    const client = await connectTemporal(sc.iso.config);
    try {
      const handle = await client.workflow.start('hdfsToWarehouse', {
        taskQueue: sc.iso.config.BATCH_TASK_QUEUE,
        workflowId: `test-${server}-restart-${randomUUID()}`,
        args: [{ dbt: false }],
      });
      const atStop = await waitFor(
        'the load under way',
        async () => {
          const n = await sc.count(manifest);
          return n >= 3 ? n : undefined;
        },
        120_000,
        25,
      );
      try {
        await stopService(ctx, svc);
        await sleep(downMs);
        assert.equal(w.child.exitCode, null, `the batch worker runs while ${server} is down`);
      } finally {
        await startService(ctx, svc);
      }
      const result = await resultOf(handle);
      const total = await sc.count(manifest);
      assert.ok(atStop < total, `${server} stopped after ${atStop} of ${total} files`);
      assert.equal(total, files, 'every file in the manifest');
      assert.equal(
        await sc.count(`SELECT sum(rows_inserted) AS n FROM ${sc.schema}.load_manifest`),
        events.length,
      );
      assert.equal(result.load.rejected, 0);
      await sc.assertEachEventOnce(events);
      assert.equal(w.child.exitCode, null, 'the batch worker lived through it');
      return { result, runs: await activityRuns(handle) };
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
      await client.connection.close();
    }
  }

  it('PostgreSQL restarted during the load: the run completes, every event loaded once', async () => {
    const { runs } = await restartDuringLoad(pgCase, 'postgres', 3000);
    // The load is several activities (groups of files); those in flight failed with the server.
    const retried = runs.filter((r) => r.type === 'loadFiles' && r.attempt > 1);
    assert.ok(retried.length > 0, 'a load failed with the server and was retried');
    for (const load of retried) assert.match(String(load.lastFailure), /terminat|connect/i);
  });

  it('Temporal server restarted during the run: the worker rides it out, the run completes', async () => {
    await restartDuringLoad(temporalCase, 'temporal', 10_000);
  });
});
