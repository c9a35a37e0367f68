// `logpipe bench latency`: at a steady rate, how long from produce to readable in Cassandra.
// One event in 50 is a probe: a reader polls for each probe by its primary key every 10 ms and
// records when it first becomes readable. Baseline: the original's 10 s micro-batch trigger.
import { createCassandra } from '../lib/clients/cassandra.ts';
import { dlqTopic } from '../lib/config.ts';
import { EventGenerator } from '../producers/generator.ts';
import { ensureTopic, publish } from '../producers/publisher.ts';
import { benchRun, cleanup, machine, rssMiB, sleep, startWorkerProcess } from './bench-env.ts';

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
  machine: string;
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
    machine: machine(),
  };
}
