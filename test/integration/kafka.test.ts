import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createKafka } from '../../lib/clients/kafka.ts';
import { ensureTopics } from '../../lib/clients/kafka-topics.ts';
import { loadConfig } from '../../lib/config.ts';

describe('Kafka (real broker, kafkajs)', () => {
  const kafka = createKafka(loadConfig(), 'logpipe-test');
  const admin = kafka.admin();
  const topic = `test-roundtrip-${randomUUID()}`;
  after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('does not create topics on its own', async () => {
    await admin.connect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await assert.rejects(
      producer.send({
        topic: `never-created-${randomUUID()}`,
        messages: [{ value: 'x' }],
        acks: -1,
        timeout: 3000,
      }),
    );
    await producer.disconnect();
  });

  it('creates a topic and round-trips a message', async () => {
    assert.equal(
      await admin.createTopics({
        topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
        waitForLeaders: true,
      }),
      true,
    );
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(meta.topics[0]?.partitions.length, 3);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const value = JSON.stringify({ hello: 'logpipe', id: randomUUID() });
    await producer.send({ topic, messages: [{ key: 'k1', value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve({ key: String(message.key), value: String(message.value) });
        },
      });
    });
    await consumer.disconnect();
    assert.deepEqual(received, { key: 'k1', value });
  });

  it('creates the event topic and its dead-letter topic once, with the configured partitions', async () => {
    const config = { ...loadConfig(), KAFKA_TOPIC: `test-topics-${randomUUID()}`, KAFKA_PARTITIONS: 2 };
    const topics = [config.KAFKA_TOPIC, `${config.KAFKA_TOPIC}.dlq`];
    try {
      assert.deepEqual(await ensureTopics(kafka, config), topics);
      const meta = await admin.fetchTopicMetadata({ topics });
      assert.deepEqual(
        meta.topics
          .map((t) => [t.name, t.partitions.length, t.partitions.every((p) => p.leader >= 0)])
          .sort(),
        topics.map((t) => [t, 2, true]),
      );
      assert.deepEqual(await ensureTopics(kafka, config), [], 'existing topics are left as they are');
      await admin.deleteTopics({ topics: [topics[1] as string] });
      assert.deepEqual(await ensureTopics(kafka, config), [topics[1]], 'only the missing one is created');
    } finally {
      await admin.deleteTopics({ topics }).catch(() => {});
    }
  });
});
