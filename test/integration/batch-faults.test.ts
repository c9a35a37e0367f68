// kill -9 of the batch worker in the middle of a compaction, in the middle of a load, and inside
// every activity of one run (dbt included): a new worker finishes the run, and every event is in
// its table exactly once, and in the facts once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { connectTemporal, queuePollers } from '../../lib/clients/temporal.ts';
import { EventGenerator } from '../../producers/generator.ts';
import type { HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';
import {
  activityRuns,
  batchScenario,
  killWorker,
  processesFor,
  startBatchWorker,
  writeInRounds,
} from '../helpers/faults.ts';
import { dataFileLines, hdfsFiles, type Isolated, type WorkerHandle, waitFor } from '../helpers/pipeline.ts';

/**
 * Starts a run on a worker process, kills it with SIGKILL once `underWay` says the step is in
 * progress, starts a new worker and returns the run's result with the progress seen at the kill.
 */
async function killDuringRun(
  iso: Isolated,
  underWay: () => Promise<number | undefined>,
): Promise<{ result: HdfsToWarehouseResult; atKill: number }> {
  const client = await connectTemporal(iso.config);
  const first = startBatchWorker(iso, 'first');
  const handle = await client.workflow.start('hdfsToWarehouse', {
    taskQueue: iso.config.BATCH_TASK_QUEUE,
    workflowId: `test-kill-${randomUUID()}`,
    args: [{ dbt: false }],
  });
  let second: WorkerHandle | undefined;
  try {
    const atKill = await waitFor('the step to be under way', underWay, 120_000, 25);
    await killWorker(first);
    await sleep(500);
    second = startBatchWorker(iso, 'second');
    return { result: (await handle.result()) as HdfsToWarehouseResult, atKill };
  } finally {
    await killWorker(first);
    second?.child.kill('SIGTERM');
    await second?.exited;
    await client.connection.close();
  }
}

describe('batch worker killed during a load', () => {
  // No hour closes during the test, whatever the clock says: this case is about the load.
  const { iso, schema, count, assertEachEventOnce } = batchScenario('batchkill', {
    COMPACT_GRACE_MINUTES: '600',
  });

  it('a new worker completes the run with exact counts', async () => {
    const events = [
      ...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 10 * 60_000), rate: 20 }).take(6000),
    ];
    await writeInRounds(iso, events);
    assert.ok((await hdfsFiles(iso)).length >= 20, 'enough files to kill the load among');
    const manifest = `SELECT count(*) AS n FROM ${schema}.load_manifest`;
    const { result, atKill } = await killDuringRun(iso, async () => {
      const n = await count(manifest);
      return n >= 3 ? n : undefined;
    });
    const total = await count(manifest);
    assert.ok(atKill < total, `killed after ${atKill} of ${total} files`);
    assert.ok(result.load.inserted <= events.length);
    await assertEachEventOnce(events);
  });
});

describe('batch worker killed during a compaction', () => {
  const { iso, schema, count, assertEachEventOnce } = batchScenario('compactkill', {
    COMPACT_GRACE_MINUTES: '15',
  });

  it('a new worker completes the compaction and the run with exact counts', async () => {
    // Six closed hours, each written in many small files.
    const events = [
      ...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 8 * 3600_000), rate: 0.25 }).take(
        5400,
      ),
    ];
    const hours = new Set(events.map((e) => e.timestamp.slice(0, 13)));
    assert.ok(hours.size >= 6);
    await writeInRounds(iso, events);
    const rawBefore = (await hdfsFiles(iso)).length;
    assert.ok(rawBefore >= 3 * hours.size, `${rawBefore} raw files to compact`);

    const compactions = `SELECT count(*) AS n FROM ${schema}.compactions`;
    const { result, atKill } = await killDuringRun(iso, async () => {
      const n = await count(compactions);
      return n >= 1 && n < hours.size ? n : undefined;
    });
    assert.ok(atKill < hours.size, `killed after ${atKill} of ${hours.size} hours`);
    // Every hour compacted once into one file, its raw files gone, every event loaded once.
    assert.equal(
      await count(`SELECT count(*) AS n FROM ${schema}.compactions WHERE inputs_removed`),
      hours.size,
    );
    const hdfs = new Hdfs(iso.config);
    let compactedLines = 0;
    for (const h of hours) {
      const dir = `${iso.config.HDFS_COMPACTED_ROOT}/${iso.config.KAFKA_TOPIC}/dt=${h.slice(0, 10)}/hour=${h.slice(11, 13)}`;
      const files = await hdfs.list(dir);
      assert.equal(files.length, 1, `one compacted file in ${dir}, no leftover temporary file`);
      compactedLines += (await dataFileLines(hdfs, `${dir}/${files[0]?.pathSuffix}`)).length;
    }
    assert.equal(compactedLines, events.length, 'the compacted files hold each event once');
    assert.deepEqual(
      (await hdfsFiles(iso)).filter((f) => f.endsWith('.ndjson')),
      [],
      'no raw file left',
    );
    assert.equal(result.load.rejected, 0);
    await assertEachEventOnce(events);
  });
});

describe('two runs at once (a backfill that allows overlaps, `batch run` beside the schedule)', () => {
  const { iso, schema, count, assertEachEventOnce } = batchScenario('overlap', {
    COMPACT_GRACE_MINUTES: '15',
  });

  it('both complete; each hour is compacted once and each event loaded once', async () => {
    const events = [
      ...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 5 * 3600_000), rate: 0.1 }).take(
        1200,
      ),
    ];
    const hours = new Set(events.map((e) => e.timestamp.slice(0, 13)));
    await writeInRounds(iso, events);
    const client = await connectTemporal(iso.config);
    const worker = startBatchWorker(iso, 'overlap');
    try {
      const start = () =>
        client.workflow.start('hdfsToWarehouse', {
          taskQueue: iso.config.BATCH_TASK_QUEUE,
          workflowId: `test-overlap-${randomUUID()}`,
          args: [{ dbt: false }],
        });
      const handles = await Promise.all([start(), start()]);
      const results = (await Promise.all(handles.map((h) => h.result()))) as HdfsToWarehouseResult[];
      assert.equal(results.length, 2);
      // One compaction per hour, whichever run did it, and its raw files gone.
      assert.equal(await count(`SELECT count(*) AS n FROM ${schema}.compactions`), hours.size);
      assert.equal(
        await count(`SELECT count(*) AS n FROM ${schema}.compactions WHERE inputs_removed`),
        hours.size,
      );
      assert.deepEqual(
        (await hdfsFiles(iso)).filter((f) => f.endsWith('.ndjson')),
        [],
        'no raw file left',
      );
      await assertEachEventOnce(events);
      assert.equal(
        results.reduce((n, r) => n + r.load.inserted, 0),
        events.length,
        'the two runs together inserted each event once',
      );
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await client.connection.close();
    }
  });
});

/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED */
const STARTED = 2;

describe('batch worker killed inside every activity of one run', () => {
  // The first attempt of every activity waits two seconds, so the test finds it STARTED. No hour
  // closes during the test: compaction finds nothing (killing it mid-work is the case above).
  const PAUSE = { LOGPIPE_FAILPOINT_ACTIVITY_PAUSE_MS: '2000' };
  const { iso, schema, warehouse, count, assertEachEventOnce } = batchScenario('everykill', {
    COMPACT_GRACE_MINUTES: '600',
  });

  /** dbt connections working on this test's schemas. */
  const dbtBackends = () =>
    count(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE application_name = 'dbt' AND (query LIKE '%${schema}%' OR query LIKE '%${warehouse}%')`,
    );

  it('each activity is retried on a new worker, the run completes, raw tables and facts are exact', async () => {
    const events = [
      ...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 10 * 60_000), rate: 20 }).take(3000),
    ];
    await writeInRounds(iso, events);
    const files = (await hdfsFiles(iso)).length;
    const manifest = `SELECT count(*) AS n FROM ${schema}.load_manifest`;
    const plan: { activity: string; dbt?: boolean }[] = [
      { activity: 'checkServices' },
      { activity: 'ensureWarehouseSchema' },
      { activity: 'planCompaction' },
      { activity: 'discoverNewFiles' },
      { activity: 'loadFiles' },
      { activity: 'validateLoad' },
      { activity: 'loadCatalog' },
      { activity: 'dbt', dbt: true },
      { activity: 'recordLedger' },
      { activity: 'notify' },
    ];
    const client = await connectTemporal(iso.config);
    let worker = startBatchWorker(iso, 'kill-0', PAUSE);
    const started = Date.now();
    const took: string[] = [];
    try {
      const handle = await client.workflow.start('hdfsToWarehouse', {
        taskQueue: iso.config.BATCH_TASK_QUEUE,
        workflowId: `test-every-kill-${randomUUID()}`,
        // One load activity (one group, one at a time), so that one kill covers the whole load.
        args: [{ dbt: true, parallelism: 1, groupMaxFiles: 10_000 }],
      });
      for (const [i, step] of plan.entries()) {
        const name = step.activity;
        const t0 = Date.now();
        await waitFor(
          `${name} started`,
          async () => {
            const pending = (await handle.describe()).raw.pendingActivities ?? [];
            return pending.some(
              (p) => p.activityType?.name === step.activity && p.state === STARTED && p.attempt === 1,
            );
          },
          180_000,
          100,
        );
        let dbtPid: number | undefined;
        if (step.activity === 'loadFiles') {
          // Past the pause: some files loaded, not all.
          const atKill = await waitFor(
            'files loaded',
            async () => {
              const n = await count(manifest);
              return n >= 2 ? n : undefined;
            },
            60_000,
            25,
          );
          assert.ok(atKill < files, `the load killed after ${atKill} of ${files} files`);
        } else if (step.dbt) {
          // Past the pause: dbt running, and at work on this test's schemas.
          dbtPid = await waitFor(
            'dbt build running',
            async () =>
              processesFor(warehouse).find(
                (p) => p.ppid === worker.child.pid && /dbt_server\.py| build\b/.test(p.cmd),
              )?.pid,
            60_000,
            100,
          );
          await waitFor('dbt at work in PostgreSQL', async () => (await dbtBackends()) > 0, 60_000, 50);
        }
        await killWorker(worker);
        if (dbtPid !== undefined) {
          // dbt dies with its parent, and its connections with it: no orphan builds the marts
          // beside the retried attempt.
          const pid = dbtPid;
          await waitFor(
            'the orphaned dbt gone',
            async () => !processesFor(warehouse).some((p) => p.pid === pid),
            5000,
            100,
          );
          await waitFor('its connections gone', async () => (await dbtBackends()) === 0, 10_000, 100);
        }
        worker = startBatchWorker(iso, `kill-${i + 1}`, PAUSE);
        took.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      const result = (await handle.result()) as HdfsToWarehouseResult;
      took.push(`finish ${((Date.now() - started) / 1000).toFixed(1)} s`);

      // Every activity of the run was killed once, during its first attempt, and retried.
      const runs = await activityRuns(handle);
      assert.deepEqual(
        runs.map((r) => r.type),
        plan.map((s) => s.activity),
      );
      for (const r of runs) {
        assert.equal(r.attempt, 2, `${r.type}: killed once, retried once`);
        assert.match(
          String(r.lastFailure),
          /heartbeat/i,
          `${r.type}: the dead worker noticed by its heartbeat`,
        );
      }
      assert.equal(result.load.rejected, 0);
      assert.deepEqual(
        result.dbt?.tests.filter((t) => t.status !== 'pass'),
        [],
      );
      await assertEachEventOnce(events);
      assert.equal(
        await count(`SELECT count(*) AS n FROM ${warehouse}.fact_events`),
        events.length,
        'fact_events',
      );
      assert.equal(
        await count(`SELECT count(DISTINCT event_id) AS n FROM ${warehouse}.fact_events`),
        events.length,
      );
      // The ledger, recorded by an attempt after a kill: each store holds every event once.
      const ledger = await count(
        `SELECT count(*) AS n FROM ${schema}.hour_ledger
         WHERE drift_cassandra <> 0 OR drift_postgres <> 0 OR drift_marts <> 0`,
      );
      assert.equal(ledger, 0, 'no hour drifts');
      for (const store of ['hdfs', 'cassandra', 'postgres', 'marts'])
        assert.equal(
          await count(`SELECT sum(${store}) AS n FROM ${schema}.hour_ledger`),
          events.length,
          `ledger: ${store}`,
        );
      // Only the live worker's own idle runner is left: no orphan of a killed worker.
      assert.deepEqual(
        processesFor(warehouse).filter((p) => p.ppid !== worker.child.pid),
        [],
        'no dbt left running but the live worker runner',
      );
      assert.equal(worker.child.exitCode, null);
    } finally {
      console.log(`  # time to each kill: ${took.join(', ')}`);
      await killWorker(worker);
      await client.connection.close();
      for (const p of processesFor(warehouse)) process.kill(p.pid, 'SIGKILL');
    }
  });
});

describe('two batch workers share one run, and one of them is killed', () => {
  const { iso, schema, count, assertEachEventOnce } = batchScenario('twoworkers', {
    COMPACT_GRACE_MINUTES: '600',
  });

  it('both load files of the run; after a kill -9 of one, nothing is lost or doubled', async () => {
    const events = [
      ...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 10 * 60_000), rate: 20 }).take(6000),
    ];
    await writeInRounds(iso, events);
    const files = (await hdfsFiles(iso)).length;
    assert.ok(files >= 30, `${files} files to share`);
    const client = await connectTemporal(iso.config);
    // A pauses two seconds at the start of each activity's first attempt (heartbeating), so that
    // when the test sees it holding a load, it still holds it at the kill.
    const a = startBatchWorker(iso, 'share-a', { LOGPIPE_FAILPOINT_ACTIVITY_PAUSE_MS: '2000' });
    const b = startBatchWorker(iso, 'share-b');
    const idOf = (w: WorkerHandle) => `${w.child.pid}@`;
    try {
      // Both must be polling before the run starts, or the first one up takes all of it.
      await waitFor(
        'both workers polling for activities',
        async () => {
          const pollers = await queuePollers(
            client,
            iso.config.TEMPORAL_NAMESPACE,
            iso.config.BATCH_TASK_QUEUE,
            'activity',
          );
          return [a, b].every((w) => pollers.some((p) => p.startsWith(idOf(w)))) ? true : undefined;
        },
        120_000,
        250,
      );
      const handle = await client.workflow.start('hdfsToWarehouse', {
        taskQueue: iso.config.BATCH_TASK_QUEUE,
        workflowId: `test-share-${randomUUID()}`,
        // One file per activity, four at a time: work for both workers.
        args: [{ dbt: false, parallelism: 4, groupMaxFiles: 1 }],
      });
      // Kill A once both have finished load work and A has a load in hand.
      await waitFor(
        'both workers loading, A in the middle of a load',
        async () => {
          const done = (await activityRuns(handle)).filter((r) => r.type === 'loadFiles' && r.identity);
          const byA = done.some((r) => r.identity?.startsWith(idOf(a)));
          const byB = done.some((r) => r.identity?.startsWith(idOf(b)));
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          // Started less than a second ago, so at least a second of A's pause is left at the
          // kill: a load seen near its end could finish before the kill lands (a flake seen once).
          const startedMs = (p: (typeof pending)[number]) =>
            Number(p.lastStartedTime?.seconds ?? 0) * 1000 + (p.lastStartedTime?.nanos ?? 0) / 1e6;
          const aBusy = pending.some(
            (p) =>
              p.activityType?.name === 'loadFiles' &&
              p.state === STARTED &&
              String(p.lastWorkerIdentity).startsWith(idOf(a)) &&
              Date.now() - startedMs(p) < 1000,
          );
          return byA && byB && aBusy ? true : undefined;
        },
        180_000,
        50,
      );
      const atKill = await count(`SELECT count(*) AS n FROM ${schema}.load_manifest`);
      await killWorker(a);
      const result = (await handle.result()) as HdfsToWarehouseResult;
      assert.ok(atKill < files, `killed after ${atKill} of ${files} files`);

      const loads = (await activityRuns(handle)).filter((r) => r.type === 'loadFiles');
      assert.ok(loads.length >= 15, `${loads.length} load activities`);
      assert.ok(
        loads.some((r) => r.identity?.startsWith(idOf(a))),
        'worker A completed loads of the run',
      );
      assert.ok(
        loads.some((r) => r.identity?.startsWith(idOf(b))),
        'worker B completed loads of the run',
      );
      const retried = loads.filter((r) => r.attempt > 1);
      assert.ok(retried.length >= 1, 'the loads A had in hand were retried');
      for (const r of retried) {
        assert.ok(r.identity?.startsWith(idOf(b)), 'retried on the living worker');
        assert.match(String(r.lastFailure), /heartbeat/i, 'the dead worker noticed by its heartbeat');
      }
      assert.equal(await count(`SELECT count(*) AS n FROM ${schema}.load_manifest`), files);
      assert.equal(result.load.rejected, 0);
      assert.equal(result.filesNew, files);
      await assertEachEventOnce(events);
      assert.equal(b.child.exitCode, null, 'worker B lived through it');
    } finally {
      await killWorker(a);
      b.child.kill('SIGTERM');
      await b.exited;
      await client.connection.close();
    }
  });
});
