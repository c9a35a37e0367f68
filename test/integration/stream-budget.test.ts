// One byte budget for the whole streaming worker: with STREAM_BUFFER_MAX_BYTES at its floor (1 MiB)
// and rolls by size, count and age out of reach, only the budget makes partitions roll early, and
// every event still lands once in Cassandra and once in HDFS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventGenerator } from '../../producers/generator.ts';
import {
  cassandraEventIds,
  createTopics,
  duplicates,
  hdfsEventIds,
  isolated,
  send,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

describe('streaming worker under a 1 MiB byte budget (real Kafka, HDFS, Cassandra)', () => {
  const iso = isolated('budget', {
    STREAM_BUFFER_MAX_BYTES: String(1024 * 1024),
    STREAM_FETCH_MAX_BYTES: String(64 * 1024),
    HDFS_ROLL_MAX_EVENTS: '1000000',
    HDFS_ROLL_MAX_BYTES: String(512 * 1024 * 1024),
    HDFS_ROLL_MAX_AGE_MS: '3600000',
  });
  let worker: WorkerHandle;
  const N = 9000;
  const events = [
    ...new EventGenerator({ seed: iso.id, start: new Date(Date.now() - 60_000), rate: 1000 }).take(N),
  ];

  before(async () => {
    await createTopics(iso);
    worker = startWorker(iso);
  });
  after(async () => {
    await stopWorker(worker);
  });

  it('drains more than the budget with early rolls, nothing lost or duplicated', async () => {
    const bytes = events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
    assert.ok(bytes > 3 * 1024 * 1024, `${bytes} bytes: several budgets' worth`);
    const summary = await send(
      iso,
      events.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
    );
    assert.equal(summary.sent, N);
    // Rolls by age are an hour away: lines reach HDFS only because the budget rolls them.
    const raw = await waitFor(
      'all lines in HDFS',
      async () => {
        const m = await hdfsEventIds(iso);
        return m.size >= N - 2000 ? m : undefined;
      },
      120_000,
    );
    assert.deepEqual(duplicates(raw), []);
    const cass = await waitFor('all rows in Cassandra', async () => {
      const m = await cassandraEventIds(iso);
      return m.size >= N ? m : undefined;
    });
    assert.equal(cass.size, N);
    assert.deepEqual(duplicates(cass), []);

    const log = readFileSync(join(process.cwd(), 'test-artifacts', 'logs', `${iso.id}-worker.log`), 'utf8');
    const port = Number(/"metricsPort":(\d+)/.exec(log)?.[1]);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const rolls = Number(/^logpipe_stream_budget_rolls_total (\d+)/m.exec(text)?.[1]);
    assert.ok(rolls > 0, `budget rolls: ${rolls}`);
    const held = Number(/^logpipe_stream_held_bytes (\d+)/m.exec(text)?.[1]);
    assert.ok(held <= 1024 * 1024 + 64 * 1024, `held ${held} bytes, budget 1 MiB`);

    // A clean stop rolls what is left: then every event is in HDFS exactly once.
    await stopWorker(worker);
    const all = await hdfsEventIds(iso);
    assert.equal(all.size, N);
    assert.deepEqual(duplicates(all), []);
  });
});
