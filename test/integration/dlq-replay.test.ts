// `./logpipe dlq replay` through the real stack: dead letters written as an older contract's worker
// wrote them (the original system's error events, refused as schema_violation before top-level
// error_at was accepted) come back through the streaming worker to Cassandra and HDFS exactly once;
// what today's contract still refuses stays in the DLQ; a second call resumes; nothing is deleted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKafka } from '../../lib/clients/kafka.ts';
import { dlqTopic } from '../../lib/config.ts';
import { parseEvent } from '../../lib/events/parse.ts';
import type { ReplaySummary } from '../../producers/dlq-replay.ts';
import { goldenLines } from '../fixtures/golden.ts';
import { logpipe } from '../helpers/cli.ts';
import {
  cassandraEventIds,
  createTopics,
  dlqMessages,
  duplicates,
  hdfsEventIds,
  isolated,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

describe('dlq replay (real Kafka, streaming worker, Cassandra, HDFS)', () => {
  const iso = isolated('dlqreplay');
  let worker: WorkerHandle;
  const at = new Date(Date.now() - 30 * 60_000);
  // The original's error events, from the hand-written golden fixture.
  const errors = goldenLines('original-events', at).filter((l) => l.includes('"event_type": "error"'));
  const broken = [Buffer.from('{"event_type": "search", "user_id": '), Buffer.from('[1, 2]')];
  const ids = errors.map((l) => {
    const r = parseEvent(l);
    assert.ok(r.ok);
    return r.event.event_id;
  });

  async function deadLetter(lines: Buffer[], reason: string): Promise<void> {
    const producer = createKafka(iso.config, 'test-old-worker').producer();
    await producer.connect();
    await producer.send({
      topic: dlqTopic(iso.config),
      messages: lines.map((value, i) => ({
        key: `${iso.config.KAFKA_TOPIC}:0:${i}`,
        value,
        headers: {
          reason,
          detail: 'details.error_at: must be an ISO-8601 timestamp',
          dead_lettered_at: new Date().toISOString(),
        },
      })),
    });
    await producer.disconnect();
  }

  const replay = async (...args: string[]) => {
    const res = await logpipe(['dlq', 'replay', '--json', ...args], iso.env);
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as ReplaySummary;
  };

  before(async () => {
    await createTopics(iso);
    worker = startWorker(iso);
    await deadLetter(errors, 'schema_violation');
    await deadLetter(broken, 'invalid_json');
  });
  after(async () => {
    await stopWorker(worker);
  });

  it('--dry-run counts what would come back and moves nothing', async () => {
    const dry = await replay('--dry-run');
    assert.equal(dry.read, errors.length + broken.length);
    assert.equal(dry.replayed, errors.length);
    assert.deepEqual(dry.stillInvalid, { invalid_json: 1, not_an_object: 1 });
    assert.equal(dry.remaining, errors.length + broken.length, 'the position did not move');
  });

  it('--limit replays that many; the next call resumes and replays the rest', async () => {
    const first = await replay('--reason', 'schema_violation', '--limit', '1');
    assert.equal(first.replayed, 1);
    const second = await replay('--reason', 'schema_violation');
    assert.equal(second.replayed, errors.length - 1);
    assert.equal(second.skipped, broken.length, 'the other reason is outside the filter');
    assert.equal(second.remaining, 0);
    const third = await replay('--reason', 'schema_violation');
    assert.equal(third.read, 0, 'nothing left for the same filter');
    assert.equal(third.replayed, 0);
  });

  it('the replayed events reach Cassandra and HDFS exactly once, even when replayed again', async () => {
    // Another filter has its own position: this replays the same events a second time.
    const again = await replay();
    assert.equal(again.replayed, errors.length);
    assert.deepEqual(again.stillInvalid, { invalid_json: 1, not_an_object: 1 });
    const cass = await waitFor('the replayed events in Cassandra', async () => {
      const m = await cassandraEventIds(iso);
      return ids.every((id) => m.has(id)) ? m : undefined;
    });
    assert.equal(cass.size, errors.length);
    assert.deepEqual(duplicates(cass), []);
    const hdfs = await waitFor('the replayed events in HDFS', async () => {
      const m = await hdfsEventIds(iso);
      return ids.every((id) => m.has(id)) ? m : undefined;
    });
    assert.deepEqual([...hdfs.keys()].sort(), [...ids].sort());
  });

  it('never deletes from the DLQ', async () => {
    const kept = await dlqMessages(iso, errors.length + broken.length, 20_000);
    assert.equal(kept.length, errors.length + broken.length);
  });
});
