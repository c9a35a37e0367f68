// The one place logpipe creates its Kafka topics: the event topic and its dead-letter topic, with
// the configured partitions and replication, whoever starts first (the producer, the streaming
// worker, a test). It returns once every partition of both has a leader, so a consumer or producer
// started next finds them served.
import type { Kafka } from 'kafkajs';
import { type Config, dlqTopic } from '../config.ts';

export type TopicConfig = Pick<
  Config,
  'KAFKA_TOPIC' | 'KAFKA_PARTITIONS' | 'KAFKA_REPLICATION_FACTOR' | 'KAFKA_DLQ_TOPIC'
>;

/** The topics logpipe writes: the events and their dead letters. */
export const logpipeTopics = (config: TopicConfig) => [config.KAFKA_TOPIC, dlqTopic(config)];

/**
 * Creates whichever of the two topics is missing (an existing topic is left as it is) and waits for
 * their leaders. Returns the names it created. A partition without a leader yet (right after a
 * broker start) throws an error marked `retriable`, for the caller's retry.
 */
export async function ensureTopics(kafka: Kafka, config: TopicConfig): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = logpipeTopics(config).filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({
        topics: missing.map((topic) => ({
          topic,
          numPartitions: config.KAFKA_PARTITIONS,
          replicationFactor: config.KAFKA_REPLICATION_FACTOR,
        })),
        waitForLeaders: true,
      });
    }
    const meta = await admin.fetchTopicMetadata({ topics: logpipeTopics(config) });
    const leaderless = meta.topics.flatMap((t) =>
      t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}[${p.partitionId}]`),
    );
    if (leaderless.length)
      throw Object.assign(new Error(`no leader yet for ${leaderless.join(', ')}`), { retriable: true });
    return missing;
  } finally {
    await admin.disconnect();
  }
}
