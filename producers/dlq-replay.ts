// `logpipe dlq replay`: reads the dead-letter topic and publishes each message's original bytes
// again to the events topic, so events dead-lettered by an older contract (or a sink outage) come
// back. The streaming worker derives an id from the bytes of an event without one, so a message
// replayed twice is stored once. Nothing is ever deleted from the DLQ.
// Where it got to is kept in Kafka as the committed offsets of a consumer group of its own, one
// per filter (`logpipe-dlq-replay.<reason|all>[.<window hash>]`): the same call again resumes there.
// Offsets move only after the messages before them were published (at least once).

import { createHash, randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { createKafka } from '../lib/clients/kafka.ts';
import { ensureTopics } from '../lib/clients/kafka-topics.ts';
import { type Config, dlqTopic } from '../lib/config.ts';
import { DEFAULT_PARSE_OPTIONS, parseEvent } from '../lib/events/parse.ts';
import { createIdempotentProducer } from './publisher.ts';

export interface ReplayOptions {
  /** Only messages dead-lettered with this reason (the `reason` header). */
  reason?: string;
  /** Only messages dead-lettered at or after / before this instant. */
  since?: Date;
  until?: Date;
  /** Replay at most this many messages in this call. */
  limit?: number;
  /** Count what would be replayed; publish nothing and keep the position where it was. */
  dryRun?: boolean;
  /** Give up when no message arrives for this long while some remain (default 60 s). */
  idleTimeoutMs?: number;
}

export interface ReplaySummary {
  dlqTopic: string;
  positionGroup: string;
  /** Messages read from the DLQ in this call. */
  read: number;
  /** Sent to the events topic (with --dry-run: that would be). */
  replayed: number;
  /** Read, but outside the filter. */
  skipped: number;
  /** Still refused by today's contract, by reason: left in the DLQ, not sent. */
  stillInvalid: Record<string, number>;
  dryRun: boolean;
  /** Messages of the DLQ after the position this call ended at (for the same filter). */
  remaining: number;
}

export function positionGroup(opts: Pick<ReplayOptions, 'reason' | 'since' | 'until'>): string {
  const base = `logpipe-dlq-replay.${opts.reason ?? 'all'}`;
  if (!opts.since && !opts.until) return base;
  const window = `${opts.since?.toISOString() ?? ''}/${opts.until?.toISOString() ?? ''}`;
  return `${base}.${createHash('sha256').update(window).digest('hex').slice(0, 8)}`;
}

const header = (m: KafkaMessage, name: string) => {
  const v = m.headers?.[name];
  return v === undefined ? undefined : String(Array.isArray(v) ? v[0] : v);
};

/** When a message was dead-lettered: its header, else the Kafka timestamp. */
function deadLetteredAt(m: KafkaMessage): number {
  const h = header(m, 'dead_lettered_at');
  const at = h ? Date.parse(h) : Number.NaN;
  return Number.isNaN(at) ? Number(m.timestamp) : at;
}

export function matches(m: KafkaMessage, opts: ReplayOptions): boolean {
  if (opts.reason && header(m, 'reason') !== opts.reason) return false;
  const at = deadLetteredAt(m);
  if (opts.since && at < opts.since.getTime()) return false;
  if (opts.until && at >= opts.until.getTime()) return false;
  return true;
}

export async function replayDeadLetters(
  config: Config,
  opts: ReplayOptions = {},
  kafka: Kafka = createKafka(config, 'logpipe-dlq-replay'),
): Promise<ReplaySummary> {
  const topic = dlqTopic(config);
  const group = positionGroup(opts);
  const summary: ReplaySummary = {
    dlqTopic: topic,
    positionGroup: group,
    read: 0,
    replayed: 0,
    skipped: 0,
    stillInvalid: {},
    dryRun: opts.dryRun ?? false,
    remaining: 0,
  };
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return summary;
    // Read up to the end as it is now: what is dead-lettered meanwhile waits for the next call.
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions ?? [];
    const next = new Map<number, number>();
    const end = new Map<number, number>();
    for (const p of ends) {
      const c = Number(committed.find((x) => x.partition === p.partition)?.offset ?? -1);
      next.set(p.partition, Math.max(Number(p.low), c));
      end.set(p.partition, Number(p.high));
    }
    const pending = () => [...end].reduce((a, [p, e]) => a + Math.max(0, e - (next.get(p) ?? e)), 0);
    const pendingAtStart = pending();
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    if (pending() > 0 && limit > 0) {
      await readAndReplay(config, kafka, topic, opts, summary, next, end, limit);
    }
    // A dry run leaves the position where it was: everything after it still remains.
    summary.remaining = summary.dryRun ? pendingAtStart : pending();
    if (!summary.dryRun) {
      await admin.setOffsets({
        groupId: group,
        topic,
        partitions: [...next].map(([partition, offset]) => ({ partition, offset: String(offset) })),
      });
    }
    return summary;
  } finally {
    await admin.disconnect();
  }
}

async function readAndReplay(
  config: Config,
  kafka: Kafka,
  topic: string,
  opts: ReplayOptions,
  summary: ReplaySummary,
  next: Map<number, number>,
  end: Map<number, number>,
  limit: number,
): Promise<void> {
  const parseOptions = { ...DEFAULT_PARSE_OPTIONS, maxBytes: config.MAX_EVENT_BYTES };
  const producer = summary.dryRun ? undefined : createIdempotentProducer(kafka);
  if (producer) {
    await ensureTopics(kafka, config);
    await producer.connect();
  }
  // A reader of its own that commits nothing: the position lives in the replay's group.
  const readerGroup = `logpipe-dlq-replay-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId: readerGroup, maxBytesPerPartition: 1 << 20 });
  const done = () => summary.replayed >= limit || [...end].every(([p, e]) => (next.get(p) ?? e) >= e);
  let finish: (err?: Error) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  let lastProgress = Date.now();
  const idle = setInterval(() => {
    if (Date.now() - lastProgress > (opts.idleTimeoutMs ?? 60_000))
      finish(new Error(`no message read from ${topic} for ${(opts.idleTimeoutMs ?? 60_000) / 1000} s`));
  }, 1000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const partition = batch.partition;
        const stop = end.get(partition) ?? 0;
        const out: { value: Buffer; headers: Record<string, string> }[] = [];
        let position = next.get(partition) ?? 0;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < position || offset >= stop) continue;
          if (summary.replayed + out.length >= limit) break;
          summary.read++;
          position = offset + 1;
          if (!matches(m, opts)) {
            summary.skipped++;
            continue;
          }
          const value = m.value ?? Buffer.alloc(0);
          const check = parseEvent(value, parseOptions);
          if (!check.ok) {
            summary.stillInvalid[check.reason] = (summary.stillInvalid[check.reason] ?? 0) + 1;
            continue;
          }
          out.push({ value, headers: { replayed_from: `${topic}:${partition}:${offset}` } });
        }
        if (out.length && producer)
          await producer.send({ topic: config.KAFKA_TOPIC, acks: -1, messages: out });
        summary.replayed += out.length;
        next.set(partition, position);
        lastProgress = Date.now();
        if (done()) finish();
      },
    });
    // Start every partition at the replay's own position.
    for (const [partition, offset] of next) consumer.seek({ topic, partition, offset: String(offset) });
    if (done()) finish();
    await finished;
  } finally {
    clearInterval(idle);
    await consumer.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([readerGroup]).catch(() => undefined);
    await admin.disconnect();
  }
}
