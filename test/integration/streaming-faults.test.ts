// Faults against the real stack: kill -9 of the worker during a stream, two workers sharing the
// topic with a rebalance, Cassandra down and back, the HDFS DataNode restarted. Each case is bounded
// in time and ends with exact counts: every event in Cassandra once and in HDFS once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../lib/config.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { allServices, stackContext, startService, stopService } from '../../stack/stack.ts';
import {
  cassandraEventIds,
  createTopics,
  duplicates,
  hdfsEventIds,
  type Isolated,
  isolated,
  send,
  startWorker,
  stopWorker,
  waitFor,
} from '../helpers/pipeline.ts';

function dataset(iso: Isolated, n: number): LogEvent[] {
  return [...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 600_000), rate: 500 }).take(n)];
}

const messages = (events: LogEvent[]) => events.map((e) => ({ key: e.session_id, value: JSON.stringify(e) }));

/** Waits until both sinks hold every event, then checks there is exactly one copy of each. */
async function assertExactlyOnce(iso: Isolated, events: LogEvent[], timeoutMs = 180_000): Promise<void> {
  const ids = new Set(events.map((e) => e.event_id));
  const cass = await waitFor(
    'every event in Cassandra',
    async () => {
      const m = await cassandraEventIds(iso);
      return m.size >= ids.size ? m : undefined;
    },
    timeoutMs,
    2000,
  );
  const raw = await waitFor(
    'every event in HDFS',
    async () => {
      const m = await hdfsEventIds(iso);
      return m.size >= ids.size ? m : undefined;
    },
    timeoutMs,
    2000,
  );
  assert.equal(cass.size, ids.size, 'Cassandra: no loss, nothing extra');
  assert.equal(raw.size, ids.size, 'HDFS: no loss, nothing extra');
  assert.ok([...ids].every((id) => cass.has(id) && raw.has(id)));
  assert.deepEqual(duplicates(raw), [], 'HDFS: no second copy');
  assert.deepEqual(duplicates(cass), [], 'Cassandra: no second copy');
  // Give a replay a chance to show up as a late duplicate, then look again.
  await sleep(3000);
  assert.deepEqual(duplicates(await hdfsEventIds(iso)), []);
  assert.equal((await hdfsEventIds(iso)).size, ids.size);
}

describe('streaming worker under faults', () => {
  it('kill -9 of the worker five times during a stream loses and duplicates nothing', async () => {
    // Small rolls, so kills land between the HDFS steps too.
    const iso = isolated('kill9', { HDFS_ROLL_MAX_EVENTS: '700', HDFS_ROLL_MAX_AGE_MS: '300' });
    await createTopics(iso);
    const events = dataset(iso, 12_000);
    const producing = send(iso, messages(events), 1500);
    for (let i = 0; i < 5; i++) {
      const w = startWorker(iso, `kill-${i}`);
      await sleep(4000 + i * 700);
      w.child.kill('SIGKILL');
      await w.exited;
    }
    assert.equal((await producing).sent, events.length);
    const last = startWorker(iso, 'final');
    try {
      await assertExactlyOnce(iso, events);
    } finally {
      await stopWorker(last);
    }
  });

  it('two workers share the topic, and a rebalance when one dies loses and duplicates nothing', async () => {
    const iso = isolated('two', { HDFS_ROLL_MAX_EVENTS: '1000' });
    await createTopics(iso);
    const events = dataset(iso, 8000);
    const a = startWorker(iso, 'a');
    const b = startWorker(iso, 'b');
    try {
      const producing = send(iso, messages(events), 1000);
      await sleep(5000);
      b.child.kill('SIGKILL'); // its partitions move to a
      await b.exited;
      assert.equal((await producing).sent, events.length);
      await assertExactlyOnce(iso, events);
    } finally {
      await stopWorker(a);
      await stopWorker(b);
    }
  });

  it('Cassandra down and back: the worker pauses, keeps running, and catches up', async () => {
    const iso = isolated('cassdown');
    await createTopics(iso);
    const ctx = stackContext(loadConfig());
    const cassandra = allServices().find((s) => s.name === 'cassandra');
    assert.ok(cassandra);
    const w = startWorker(iso);
    try {
      const events = dataset(iso, 3000);
      await send(iso, messages(events.slice(0, 1000)));
      await waitFor('the first events', async () =>
        (await cassandraEventIds(iso)).size >= 1000 ? true : undefined,
      );
      await stopService(ctx, cassandra);
      await send(iso, messages(events.slice(1000)), 500);
      await sleep(5000);
      assert.equal(w.child.exitCode, null, 'the worker is still running while Cassandra is down');
      await startService(ctx, cassandra);
      await assertExactlyOnce(iso, events);
      assert.equal(w.child.exitCode, null);
    } finally {
      await startService(ctx, cassandra);
      await stopWorker(w);
    }
  });

  it('HDFS DataNode restarted mid-stream: nothing lost, nothing doubled', async () => {
    const iso = isolated('dnrestart');
    await createTopics(iso);
    const ctx = stackContext(loadConfig());
    const dataNode = allServices().find((s) => s.name === 'hdfs-datanode');
    assert.ok(dataNode);
    const w = startWorker(iso);
    try {
      const events = dataset(iso, 4000);
      const producing = send(iso, messages(events), 800);
      await sleep(2000);
      await stopService(ctx, dataNode);
      await sleep(4000);
      await startService(ctx, dataNode);
      assert.equal((await producing).sent, events.length);
      await assertExactlyOnce(iso, events);
      assert.equal(w.child.exitCode, null);
    } finally {
      await startService(ctx, dataNode);
      await stopWorker(w);
    }
  });
});
