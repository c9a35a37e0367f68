// The dead-letter topic read by reason. A consumer of its own group (logpipe-dashboard-<uuid>) reads
// the whole topic from the beginning and commits nothing, so the dashboard changes no offset.
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { type Config, dlqTopic } from '../../lib/config.ts';
import type { Logger } from '../../lib/log.ts';
import type { DeadLetter, DeadLettersAnswer } from '../api-types.ts';
import type { MonitoringConnections } from './connections.ts';
import { reasonOf } from './time-limit.ts';

export class DeadLetterReader {
  private consumer?: Consumer;
  private starting?: Promise<void>;
  private readonly byReason = new Map<string, number>();
  /** Per partition, the offset after the last message read. */
  private readonly positions = new Map<number, bigint>();
  private readonly recent: DeadLetter[] = [];
  private error?: string;

  constructor(
    private readonly config: Config,
    private readonly connections: MonitoringConnections,
    private readonly log: Logger,
  ) {}

  /** Starts (once) a reader of the whole dead-letter topic counting messages by their reason header. */
  private start(): Promise<void> {
    this.starting ??= (async () => {
      const consumer = this.connections.kafka.consumer({
        groupId: `logpipe-dashboard-${randomUUID()}`,
        maxWaitTimeInMs: 500,
        retry: { retries: 5 },
      });
      await consumer.connect();
      await consumer.subscribe({ topic: dlqTopic(this.config), fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const h = (k: string) => (message.headers?.[k] === undefined ? '' : String(message.headers[k]));
          const reason = h('reason') || 'unknown';
          this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
          this.positions.set(partition, BigInt(message.offset) + 1n);
          this.recent.unshift({
            reason,
            detail: h('detail').slice(0, 300),
            source: `${h('source_topic')}:${h('source_partition')}:${h('source_offset')}`,
            at: h('dead_lettered_at'),
          });
          if (this.recent.length > 50) this.recent.pop();
        },
      });
      this.consumer = consumer;
    })().catch((err) => {
      this.error = reasonOf(err);
      this.starting = undefined;
      this.log.warn({ err: this.error }, 'dead-letter reader failed to start');
    });
    return this.starting;
  }

  /** What the reader has counted so far, and whether it has read up to the topic's end. */
  async answer(): Promise<DeadLettersAnswer> {
    void this.start();
    const topic = dlqTopic(this.config);
    const admin = await this.connections.kafkaAdmin();
    let ends: { partition: number; high: string; low: string }[] = [];
    try {
      ends = await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (!/does not host this topic-partition|UNKNOWN_TOPIC/i.test(reasonOf(err))) throw err;
    }
    const inTopic = ends.reduce((a, e) => a + Number(BigInt(e.high) - BigInt(e.low)), 0);
    const behind = ends.reduce((a, e) => {
      const at = this.positions.get(e.partition) ?? BigInt(e.low);
      return a + Number(BigInt(e.high) > at ? BigInt(e.high) - at : 0n);
    }, 0);
    const byReason = [...this.byReason.entries()]
      .map(([reason, messages]) => ({ reason, messages }))
      .sort((a, b) => b.messages - a.messages || a.reason.localeCompare(b.reason));
    return {
      topic,
      inTopic,
      read: byReason.reduce((a, r) => a + r.messages, 0),
      caughtUp: behind === 0,
      byReason,
      recent: this.recent.slice(0, 20),
      error: this.error,
    };
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect().catch(() => {});
  }
}
