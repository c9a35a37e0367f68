// Faults against the real stack: kill -9 of the worker during a stream, two workers sharing the
// topic with a rebalance, Cassandra down for a minute, the HDFS DataNode restarted (the Kafka
// broker restart is in stack-faults.test.ts). Each case is bounded in time and ends with exact
// counts: every event in Cassandra once and in HDFS once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../../lib/clients/kafka.ts';
import { repoRoot } from '../../lib/config.ts';
import { startService, stopService } from '../../stack/stack.ts';
import { assertExactlyOnce, dataset, messages, service, stack } from '../helpers/faults.ts';
import {
  cassandraEventIds,
  createTopics,
  duplicates,
  hdfsEventIds,
  isolated,
  send,
  startLogpipe,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

describe('streaming worker under faults', () => {
  it('a graceful stop rolls and commits every partition before leaving the group', async () => {
    // Nothing rolls by itself during the test: whatever is in HDFS and committed, the stop did.
    const iso = isolated('graceful', { HDFS_ROLL_MAX_EVENTS: '100000', HDFS_ROLL_MAX_AGE_MS: '600000' });
    await createTopics(iso);
    const events = dataset(iso, 900);
    const w = startWorker(iso, 'graceful');
    await send(iso, messages(events));
    await waitFor('every event in Cassandra', async () =>
      (await cassandraEventIds(iso)).size >= events.length ? true : undefined,
    );
    assert.equal((await hdfsEventIds(iso)).size, 0, 'nothing rolled before the stop');
    assert.equal(await stopWorker(w), 0, 'exits 0 only when every partition was committed');
    const log = readFileSync(join(repoRoot, 'test-artifacts', 'logs', `${iso.id}-graceful.log`), 'utf8');
    assert.match(log, /stopped cleanly/);
    assert.doesNotMatch(log, /final roll or commit failed/);
    const raw = await hdfsEventIds(iso);
    assert.equal(raw.size, events.length, 'the stop rolled every event to HDFS');
    const admin = createKafka(iso.config, 'test-admin').admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(iso.config.KAFKA_TOPIC);
      const [committed] = await admin.fetchOffsets({
        groupId: iso.config.STREAM_GROUP_ID,
        topics: [iso.config.KAFKA_TOPIC],
      });
      const byPartition = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
      for (const e of ends)
        assert.equal(byPartition.get(e.partition), e.high, `partition ${e.partition} committed to its end`);
    } finally {
      await admin.disconnect();
    }
    // A new worker starts where the stop committed: nothing comes twice.
    const again = startWorker(iso, 'after-graceful');
    try {
      await sleep(8000);
      assert.deepEqual(duplicates(await hdfsEventIds(iso)), []);
    } finally {
      await stopWorker(again);
    }
  });

  it('a graceful stop while HDFS stays down gives up at STREAM_STOP_TIMEOUT_MS, commits nothing, loses nothing', async () => {
    const iso = isolated('stopdown', {
      HDFS_ROLL_MAX_EVENTS: '100000',
      HDFS_ROLL_MAX_AGE_MS: '600000',
      STREAM_STOP_TIMEOUT_MS: '5000',
    });
    await createTopics(iso);
    const ctx = stack();
    const dataNode = service('hdfs-datanode');
    const events = dataset(iso, 900);
    const w = startWorker(iso, 'stopdown');
    let again: WorkerHandle | undefined;
    try {
      await send(iso, messages(events));
      await waitFor('every event in Cassandra', async () =>
        (await cassandraEventIds(iso)).size >= events.length ? true : undefined,
      );
      // Nothing has rolled yet (no roll by count or age): the stop's rolls are all that HDFS would get.
      await stopService(ctx, dataNode);
      assert.equal(await stopWorker(w), 1, 'exits 1: its partitions were not committed');
      const log = readFileSync(join(repoRoot, 'test-artifacts', 'logs', `${iso.id}-stopdown.log`), 'utf8');
      assert.match(log, /the sinks did not take the last rolls in time/);
      assert.match(log, /these partitions were not committed/);
      await startService(ctx, dataNode);
      // Uncommitted, so read again from Kafka by the next worker: once in each sink.
      again = startLogpipe(iso, ['worker', 'stream'], 'after-stopdown', { HDFS_ROLL_MAX_AGE_MS: '1000' });
      await assertExactlyOnce(iso, events);
    } finally {
      await startService(ctx, dataNode);
      await stopWorker(w);
      if (again) await stopWorker(again);
    }
  });

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

  it('Cassandra down for 60 s while events keep arriving: the worker keeps running and catches up', async () => {
    const iso = isolated('cassdown');
    await createTopics(iso);
    const ctx = stack();
    const cassandra = service('cassandra');
    const w = startWorker(iso);
    try {
      const events = dataset(iso, 4000);
      await send(iso, messages(events.slice(0, 1000)));
      await waitFor('the first events', async () =>
        (await cassandraEventIds(iso)).size >= 1000 ? true : undefined,
      );
      await stopService(ctx, cassandra);
      const down = Date.now();
      // 3000 more events over the minute Cassandra is down, the worker checked every 10 s.
      const producing = send(iso, messages(events.slice(1000)), 55);
      while (Date.now() - down < 60_000) {
        await sleep(Math.min(10_000, 60_000 - (Date.now() - down)));
        assert.equal(w.child.exitCode, null, 'the worker is still running while Cassandra is down');
      }
      assert.equal((await producing).sent, 3000);
      await startService(ctx, cassandra);
      await assertExactlyOnce(iso, events);
      assert.equal(w.child.exitCode, null);
    } finally {
      await startService(ctx, cassandra);
      await stopWorker(w);
    }
  });

  it('a worker frozen (SIGSTOP) through a rebalance while HDFS is down cannot write once resumed: nothing lost, nothing doubled', async () => {
    const iso = isolated('zombie', { HDFS_ROLL_MAX_EVENTS: '300', HDFS_ROLL_MAX_AGE_MS: '500' });
    await createTopics(iso);
    const ctx = stack();
    const dataNode = service('hdfs-datanode');
    const events = dataset(iso, 3000);
    const [first, second, third] = [events.slice(0, 1000), events.slice(1000, 2000), events.slice(2000)];
    const a = startWorker(iso, 'zombie-a');
    let b: ReturnType<typeof startWorker> | undefined;
    try {
      await send(iso, messages(first));
      await waitFor('the first events in HDFS', async () =>
        (await hdfsEventIds(iso)).size >= 1000 ? true : undefined,
      );
      // HDFS down: the worker takes the next events into Cassandra and keeps retrying its rolls.
      await stopService(ctx, dataNode);
      await send(iso, messages(second));
      await waitFor('the next events in Cassandra', async () =>
        (await cassandraEventIds(iso)).size >= 2000 ? true : undefined,
      );
      a.child.kill('SIGSTOP');
      b = startWorker(iso, 'zombie-b');
      // The frozen member's session (30 s) expires and its partitions move to b, whose claim waits for HDFS.
      await sleep(40_000);
      await startService(ctx, dataNode);
      await waitFor(
        'b to write the events a held',
        async () => ((await hdfsEventIds(iso)).size >= 2000 ? true : undefined),
        120_000,
        1000,
      );
      // a wakes up in the middle of its retried roll, with HDFS back.
      a.child.kill('SIGCONT');
      await send(iso, messages(third));
      await assertExactlyOnce(iso, events);
      const log = readFileSync(join(repoRoot, 'test-artifacts', 'logs', `${iso.id}-zombie-a.log`), 'utf8');
      assert.match(log, /another member owns this partition now/, 'the resumed member was fenced');
    } finally {
      a.child.kill('SIGCONT');
      await startService(ctx, dataNode);
      await stopWorker(a);
      if (b) await stopWorker(b);
    }
  });

  it('HDFS DataNode restarted mid-stream: nothing lost, nothing doubled', async () => {
    const iso = isolated('dnrestart');
    await createTopics(iso);
    const ctx = stack();
    const dataNode = service('hdfs-datanode');
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
