// Sends invalid messages to the dead-letter topic: the original bytes unchanged as the value, the
// reason and the source's coordinates as headers. The key names the source offset, so a message
// dead-lettered again after a crash can be recognised as the same one.
import type { Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import type { RejectReason } from '../../lib/events/parse.ts';

export interface Rejected {
  offset: string;
  value: Buffer;
  reason: RejectReason;
  detail: string;
}

export async function deadLetter(
  producer: Producer,
  dlqTopic: string,
  source: { topic: string; partition: number },
  rejected: Rejected[],
): Promise<void> {
  if (!rejected.length) return;
  const now = new Date().toISOString();
  await producer.send({
    topic: dlqTopic,
    acks: -1,
    compression: CompressionTypes.GZIP,
    messages: rejected.map((r) => ({
      key: `${source.topic}:${source.partition}:${r.offset}`,
      value: r.value,
      headers: {
        reason: r.reason,
        detail: r.detail,
        source_topic: source.topic,
        source_partition: String(source.partition),
        source_offset: r.offset,
        dead_lettered_at: now,
      },
    })),
  });
}
