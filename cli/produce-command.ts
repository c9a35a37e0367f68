// `logpipe produce`: generated events (--count or --duration) or an NDJSON file (--file) to Kafka.

import { createKafka } from '../lib/clients/kafka.ts';
import { ensureTopics } from '../lib/clients/kafka-topics.ts';
import type { Config } from '../lib/config.ts';
import { type PublishSummary, publish } from '../producers/publisher.ts';
import { fileMessages, generatedMessages } from '../producers/sources.ts';

export interface ProduceOptions {
  count?: number;
  durationMs?: number;
  rate?: number;
  seed?: string;
  file?: string;
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m)
    throw new Error(`--duration expects a duration such as 30s, 5m or 1h (got ${JSON.stringify(text)})`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

const line = (p: PublishSummary) =>
  `sent ${p.sent}, failed ${p.failed}, ${p.rate.toFixed(0)} events/s over ${(p.elapsedMs / 1000).toFixed(1)} s`;

export async function produce(config: Config, opts: ProduceOptions): Promise<PublishSummary> {
  const modes = [opts.count !== undefined || opts.durationMs !== undefined, opts.file !== undefined].filter(
    Boolean,
  ).length;
  if (modes !== 1) throw new Error('produce needs exactly one of: --count N, --duration D, --file PATH');
  const kafka = createKafka(config, 'logpipe-producer');
  await ensureTopics(kafka, config);
  const stop = new AbortController();
  const onSignal = () => {
    process.stderr.write('\nstopping: flushing what is buffered ...\n');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const source = opts.file
      ? fileMessages(opts.file)
      : generatedMessages(
          { seed: opts.seed ?? `${Date.now()}-${process.pid}`, realTime: true, rate: opts.rate },
          opts.count,
        );
    const summary = await publish(kafka, source, {
      topic: config.KAFKA_TOPIC,
      rate: opts.rate,
      durationMs: opts.durationMs,
      signal: stop.signal,
      onProgress: (p) => process.stderr.write(`[produce] ${line(p)}\n`),
    });
    process.stdout.write(`[produce] done: ${line(summary)} to ${config.KAFKA_TOPIC}\n`);
    return summary;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
