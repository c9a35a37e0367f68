// Publishes messages to Kafka: keyed by session (a session stays ordered on one partition),
// idempotent producer, gzip compression, optional rate limit, progress and a summary, and a clean
// stop (flush, then disconnect) when asked to.
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { errorMessage } from '../lib/errors.ts';

export interface OutgoingMessage {
  key: string | null;
  value: Buffer | string;
}

export interface PublishOptions {
  topic: string;
  /** Messages per second; unlimited when undefined. */
  rate?: number;
  /** Stop after this long (ms), whatever is left. */
  durationMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: PublishSummary) => void;
  progressEveryMs?: number;
  batchSize?: number;
}

export interface PublishSummary {
  sent: number;
  failed: number;
  elapsedMs: number;
  rate: number;
}

export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function publish(
  kafka: Kafka,
  source: Iterable<OutgoingMessage> | AsyncIterable<OutgoingMessage>,
  options: PublishOptions,
): Promise<PublishSummary> {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const started = Date.now();
  let sent = 0;
  let failed = 0;
  let lastProgress = started;
  const batchSize =
    options.batchSize ?? (options.rate ? Math.max(1, Math.min(500, Math.ceil(options.rate / 20))) : 500);
  const summary = (): PublishSummary => {
    const elapsedMs = Date.now() - started;
    return { sent, failed, elapsedMs, rate: elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0 };
  };
  let batch: OutgoingMessage[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const messages = batch;
    batch = [];
    try {
      await producer.send({ topic: options.topic, acks: -1, compression: CompressionTypes.GZIP, messages });
      sent += messages.length;
    } catch (err) {
      failed += messages.length;
      if (failed === messages.length) process.stderr.write(`publish failed: ${errorMessage(err)}\n`);
    }
  };
  try {
    for await (const msg of source) {
      // A message taken from the source is always sent, even when the stop comes with it.
      batch.push(msg);
      if (options.signal?.aborted) break;
      if (options.durationMs !== undefined && Date.now() - started >= options.durationMs) break;
      if (batch.length >= batchSize) {
        await flush();
        if (options.rate) {
          // Hold the average at the rate: wait until the sent count is due.
          const due = started + ((sent + failed) * 1000) / options.rate;
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait);
        }
      }
      if (options.onProgress && Date.now() - lastProgress >= (options.progressEveryMs ?? 2000)) {
        lastProgress = Date.now();
        options.onProgress(summary());
      }
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return summary();
}
