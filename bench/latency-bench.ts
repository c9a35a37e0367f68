// `logpipe bench latency`: at a steady rate, how long from produce to readable in Cassandra.
// One event in 50 is a probe: a reader polls for each probe by its primary key every 10 ms and
// records when it first becomes readable. Baseline: the original's 10 s micro-batch trigger.
import { createCassandra } from '../lib/clients/cassandra.ts';
import { dlqTopic } from '../lib/config.ts';
import { EventGenerator } from '../producers/generator.ts';
import { ensureTopic, publish } from '../producers/publisher.ts';
import { benchRun, cleanup, machine, rssMiB, sleep, startWorkerProcess } from './bench-env.ts';
import { bucketQuantile, histogramBuckets } from './prom-histogram.ts';

export interface LatencyBenchResult {
  rate: number;
  duration_s: number;
  probes: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  baseline_ms: number;
  ratio_p99_to_baseline: number;
  achieved_rate: number;
  worker_rss_mib: number;
  /** p99 of each stage of the worker (the upper bound of its histogram bucket), in ms. */
  stage_p99_ms: Record<string, number>;
  /** The stage with the longest p99: where the tail is spent. */
  tail_stage: string;
  machine: string;
}

/** The worker's stage histograms (logpipe_stream_stage_seconds) as p99 per stage, in ms. */
export function stageP99(metricsText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stage, buckets] of histogramBuckets(metricsText, 'logpipe_stream_stage_seconds', 'stage')) {
    const q = bucketQuantile(buckets, 0.99);
    if (q !== undefined) out[stage] = q * 1000;
  }
  return out;
}

const say = (s: string) => process.stderr.write(`[bench latency] ${s}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function latencyBench(rate: number, durationS: number): Promise<LatencyBenchResult> {
  const run = benchRun('latency');
  await ensureTopic(run.kafka, run.config.KAFKA_TOPIC, run.config.KAFKA_PARTITIONS);
  await ensureTopic(run.kafka, dlqTopic(run.config), run.config.KAFKA_PARTITIONS);
  const worker = startWorkerProcess(run);
  await worker.metricsPort;
  await sleep(5000); // let it join the group and create its tables
  const client = createCassandra(run.config, run.config.CASSANDRA_KEYSPACE);
  await client.connect();
  const query =
    'SELECT event_id FROM ecomm_log WHERE day = ? AND hour = ? AND timestamp = ? AND event_id = ?';

  const pending = new Map<string, { at: Date; sentAt: number }>();
  const latencies: number[] = [];
  let producing = true;
  const reader = (async () => {
    while (producing || pending.size) {
      await Promise.all(
        [...pending.entries()].map(async ([id, p]) => {
          const rs = await client.execute(
            query,
            [p.at.toISOString().slice(0, 10), p.at.getUTCHours(), p.at, id],
            { prepare: true },
          );
          if (rs.rows.length && pending.delete(id)) latencies.push(performance.now() - p.sentAt);
        }),
      );
      await sleep(10);
    }
  })();

  let n = 0;
  let rss = 0;
  const gen = new EventGenerator({ seed: run.id, realTime: true, rate });
  function* source() {
    for (;;) {
      const e = gen.next();
      if (n++ % 50 === 0) pending.set(e.event_id, { at: new Date(e.timestamp), sentAt: performance.now() });
      yield { key: e.session_id, value: JSON.stringify(e) };
    }
  }
  say(`producing ${rate} events/s for ${durationS} s`);
  const sampler = setInterval(() => {
    if (worker.child.pid) rss = Math.max(rss, rssMiB(worker.child.pid));
  }, 1000);
  const summary = await publish(run.kafka, source(), {
    topic: run.config.KAFKA_TOPIC,
    rate,
    durationMs: durationS * 1000,
  });
  producing = false;
  const deadline = Date.now() + 30_000;
  while (pending.size && Date.now() < deadline) await sleep(100);
  clearInterval(sampler);
  const metricsText = await fetch(`http://127.0.0.1:${await worker.metricsPort}/metrics`).then((r) =>
    r.text(),
  );
  const stages = stageP99(metricsText);
  const tail = Object.entries(stages).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
  const lost = pending.size;
  pending.clear();
  await reader;
  await client.shutdown();
  worker.child.kill('SIGTERM');
  await worker.exited;
  await cleanup(run, [run.config.CASSANDRA_KEYSPACE]);
  if (lost) throw new Error(`${lost} probe events never became readable in Cassandra`);

  latencies.sort((a, b) => a - b);
  const p99 = percentile(latencies, 99);
  const baseline = 10_000;
  return {
    rate,
    duration_s: durationS,
    probes: latencies.length,
    p50_ms: Math.round(percentile(latencies, 50)),
    p99_ms: Math.round(p99),
    max_ms: Math.round(latencies.at(-1) ?? Number.NaN),
    baseline_ms: baseline,
    ratio_p99_to_baseline: Math.round((p99 / baseline) * 1000) / 1000,
    achieved_rate: Math.round(summary.rate),
    worker_rss_mib: rss,
    stage_p99_ms: stages,
    tail_stage: tail,
    machine: machine(),
  };
}
