// Messages dead-lettered in a window, per hour of their dead-lettering, each once: a message
// dead-lettered again after a worker crash has the same key (the source's topic, partition and
// offset). The window's first offsets come from Kafka's time index, so only the window is read.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { keyOfInstant } from './hour-counts.ts';

const IDLE_MS = 15_000;

export async function countDeadLetters(
  kafka: Kafka,
  topic: string,
  since: Date,
  until: Date,
): Promise<Map<string, number>> {
  const perHour = new Map<string, Set<string>>();
  const admin = kafka.admin();
  await admin.connect();
  let from: { partition: number; offset: string }[];
  let ends: { partition: number; high: string }[];
  try {
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    from = await admin.fetchTopicOffsetsByTimestamp(topic, since.getTime());
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  // Per partition, where to stop: the end as it is now.
  const todo = new Map<number, { next: bigint; end: bigint }>();
  for (const e of ends) {
    const start = BigInt(from.find((f) => f.partition === e.partition)?.offset ?? e.high);
    const end = BigInt(e.high);
    if (start >= 0n && start < end) todo.set(e.partition, { next: start, end });
  }
  if (todo.size) await readRanges(kafka, topic, todo, perHour, since, until);
  return new Map([...perHour].map(([k, keys]) => [k, keys.size]));
}

async function readRanges(
  kafka: Kafka,
  topic: string,
  todo: Map<number, { next: bigint; end: bigint }>,
  perHour: Map<string, Set<string>>,
  since: Date,
  until: Date,
): Promise<void> {
  // A reader of its own group that commits nothing: no offset of anyone else moves.
  const consumer = kafka.consumer({
    groupId: `logpipe-reconcile-${randomUUID()}`,
    maxBytesPerPartition: 1 << 20,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = () => [...todo.values()].every((p) => p.next >= p.end);
    await new Promise<void>((resolve, reject) => {
      let idle = setTimeout(
        () => reject(new Error(`dead-letter topic ${topic}: no message for ${IDLE_MS} ms`)),
        IDLE_MS,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const p = todo.get(partition);
            const offset = BigInt(message.offset);
            if (!p || offset >= p.end) return;
            p.next = offset + 1n;
            const header = message.headers?.dead_lettered_at;
            const stamped = header === undefined ? Number.NaN : Date.parse(String(header));
            const at = Number.isNaN(stamped) ? Number(message.timestamp) : stamped;
            if (at >= since.getTime() && at < until.getTime()) {
              const key = keyOfInstant(new Date(at));
              const keys = perHour.get(key) ?? new Set<string>();
              perHour.set(key, keys);
              keys.add(message.key ? message.key.toString('utf8') : `${partition}:${message.offset}`);
            }
            clearTimeout(idle);
            if (done()) resolve();
            else
              idle = setTimeout(
                () => reject(new Error(`dead-letter topic ${topic}: no message for ${IDLE_MS} ms`)),
                IDLE_MS,
              );
          },
        })
        .catch(reject);
      // Start each partition at the window's first offset.
      for (const [partition, p] of todo) consumer.seek({ topic, partition, offset: p.next.toString() });
    });
  } finally {
    await consumer.disconnect();
  }
}
