// kill -9 of the batch worker in the middle of a compaction and in the middle of a load: a new
// worker finishes the run, and every event is in its table exactly once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TABLE_OF } from '../../activities/warehouse-schema.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { logpipeNodeArgs } from '../../lib/node-args.ts';
import { EventGenerator } from '../../producers/generator.ts';
import type { HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';
import {
  createTopics,
  hdfsEventIds,
  hdfsFiles,
  type Isolated,
  isolated,
  send,
  startWorker,
  stopWorker,
  waitFor,
} from '../helpers/pipeline.ts';

const TABLES = Object.values(TABLE_OF);

function batchWorker(iso: Isolated) {
  const child = spawn(process.execPath, logpipeNodeArgs(['worker', 'batch']), {
    env: iso.env,
    stdio: 'ignore',
  });
  return { child, exited: new Promise<void>((r) => child.on('exit', () => r())) };
}

/** The streaming worker writes the events in rounds, each rolled to HDFS before the next: many files. */
async function writeInRounds(iso: Isolated, events: LogEvent[]): Promise<void> {
  await createTopics(iso);
  const streaming = startWorker(iso);
  try {
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
  } finally {
    await stopWorker(streaming);
  }
}

/**
 * Starts a run on a worker process, kills it with SIGKILL once `underWay` says the step is in
 * progress, starts a new worker and returns the run's result with the progress seen at the kill.
 */
async function killDuringRun(
  iso: Isolated,
  underWay: () => Promise<number | undefined>,
): Promise<{ result: HdfsToWarehouseResult; atKill: number }> {
  const client = await connectTemporal(iso.config);
  const first = batchWorker(iso);
  const handle = await client.workflow.start('hdfsToWarehouse', {
    taskQueue: iso.config.BATCH_TASK_QUEUE,
    workflowId: `test-kill-${randomUUID()}`,
    args: [{ dbt: false }],
  });
  let second: ReturnType<typeof batchWorker> | undefined;
  try {
    const atKill = await waitFor('the step to be under way', underWay, 120_000, 25);
    first.child.kill('SIGKILL');
    await first.exited;
    await sleep(500);
    second = batchWorker(iso);
    return { result: (await handle.result()) as HdfsToWarehouseResult, atKill };
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGTERM');
    await second?.exited;
    await client.connection.close();
  }
}

function scenario(name: string, env: Record<string, string>) {
  const schema = `raw_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const iso = isolated(name, {
    WAREHOUSE_RAW_SCHEMA: schema,
    BATCH_TASK_QUEUE: `batch-${schema}`,
    HDFS_ROLL_MAX_EVENTS: '40',
    HDFS_ROLL_MAX_AGE_MS: '200',
    ...env,
  });
  const pool = createPgPool(iso.config);
  after(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });
  const count = async (sql: string) =>
    Number((await pool.query<{ n: string }>(sql).catch(() => undefined))?.rows[0]?.n ?? 0);
  const assertEachEventOnce = async (events: LogEvent[]) => {
    let rows = 0;
    for (const t of TABLES) {
      const r = await pool.query<{ rows: string; distinct: string }>(
        `SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct FROM ${schema}.${t}`,
      );
      assert.equal(r.rows[0]?.rows, r.rows[0]?.distinct, `${t}: each event once`);
      rows += Number(r.rows[0]?.rows);
    }
    assert.equal(rows, events.length, 'every event loaded, none twice');
  };
  return { iso, schema, count, assertEachEventOnce };
}

describe('batch worker killed during a load', () => {
  // No hour closes during the test, whatever the clock says: this case is about the load.
  const { iso, schema, count, assertEachEventOnce } = scenario('batchkill', { COMPACT_GRACE_MINUTES: '600' });

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
  const { iso, schema, count, assertEachEventOnce } = scenario('compactkill', {
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
      const files = (await hdfs.list(dir)).filter((f) => f.pathSuffix.endsWith('.ndjson'));
      assert.equal(files.length, 1, `one compacted file in ${dir}, no leftover temporary file`);
      compactedLines += (await hdfs.readFile(`${dir}/${files[0]?.pathSuffix}`))
        .toString()
        .trim()
        .split('\n').length;
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
