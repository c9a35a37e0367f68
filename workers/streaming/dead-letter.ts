// Sends rejected messages to the dead-letter topic: the original bytes as the value, the reason
// and the source's coordinates as headers. The key names the source offset, so a message
// dead-lettered again after a crash can be recognised as the same one.
// A dead letter must always fit the broker: values above the configured size are cut, with a
// header giving the original size, and sends are grouped by bytes. If the broker still refuses a
// record for its size (its message.max.bytes is lower than logpipe was told), the records go one
// by one, cut to 1 KiB: the reason, the coordinates and the head of the value are kept.
import type { Message, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import type { DeadLetterReason } from '../../lib/events/parse.ts';
import { kafkaRejectsContent } from './sink-errors.ts';

export interface Rejected {
  offset: string;
  value: Buffer;
  reason: DeadLetterReason;
  detail: string;
  /** The sink that refused it, for reason sink_rejected. */
  sink?: string;
}

export interface DeadLetterLimits {
  /** The largest value sent as it is; longer ones are cut to this size. */
  maxValueBytes: number;
  /** The most bytes of values in one produce request. */
  maxBatchBytes: number;
}

/** The broker's default message.max.bytes is 1 MiB: stay well below it. */
export const DEFAULT_DLQ_LIMITS: DeadLetterLimits = { maxValueBytes: 512 * 1024, maxBatchBytes: 768 * 1024 };

const LAST_RESORT_BYTES = 1024;
const MAX_DETAIL = 2000;

export function deadLetterMessage(
  source: { topic: string; partition: number },
  r: Rejected,
  maxValueBytes: number,
  at: string,
): Message {
  const headers: Record<string, string> = {
    reason: r.reason,
    detail: r.detail.length > MAX_DETAIL ? `${r.detail.slice(0, MAX_DETAIL)}…` : r.detail,
    source_topic: source.topic,
    source_partition: String(source.partition),
    source_offset: r.offset,
    dead_lettered_at: at,
  };
  if (r.sink) headers.sink = r.sink;
  let value = r.value;
  if (value.length > maxValueBytes) {
    headers.truncated_from_bytes = String(value.length);
    value = value.subarray(0, maxValueBytes);
  }
  return { key: `${source.topic}:${source.partition}:${r.offset}`, value, headers };
}

/** Consecutive groups whose values add up to at most `maxBytes` (a bigger value goes alone). */
export function byBytes<T>(items: T[], size: (t: T) => number, maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length && bytes + n > maxBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length) groups.push(current);
  return groups;
}

export async function deadLetter(
  producer: Producer,
  dlqTopic: string,
  source: { topic: string; partition: number },
  rejected: Rejected[],
  limits: DeadLetterLimits = DEFAULT_DLQ_LIMITS,
): Promise<void> {
  if (!rejected.length) return;
  const at = new Date().toISOString();
  const send = (messages: Message[]) =>
    producer.send({ topic: dlqTopic, acks: -1, compression: CompressionTypes.GZIP, messages });
  const groups = byBytes(
    rejected,
    (r) => Math.min(r.value.length, limits.maxValueBytes),
    limits.maxBatchBytes,
  );
  for (const group of groups) {
    try {
      await send(group.map((r) => deadLetterMessage(source, r, limits.maxValueBytes, at)));
    } catch (err) {
      if (!kafkaRejectsContent(err)) throw err;
      for (const r of group) await send([deadLetterMessage(source, r, LAST_RESORT_BYTES, at)]);
    }
  }
}
