// `logpipe bench latency`: at a steady rate, how long from produce to readable in Cassandra.
// One event in 50 is a probe: a reader polls for the pending probes by primary key every 10 ms (one
// read per hour partition, bench/latency-probes.ts) and records when each first becomes readable. Baseline: the original's 10 s micro-batch trigger.
import { createCassandra } from '../lib/clients/cassandra.ts';
import { ensureTopics } from '../lib/clients/kafka-topics.ts';
import { EventGenerator } from '../producers/generator.ts';
import { publish } from '../producers/publisher.ts';
import { benchRun, cleanup, machine, rssMiB, sleep, startWorkerProcess } from './bench-env.ts';
import { CpuSampler, type CpuWindow } from './cpu-window.ts';
import { PROBE_READ_CQL, probeReadParams, probeReads } from './latency-probes.ts';
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
  /** The slowest 1% of probes, median: time before the worker's Cassandra write, and after it. */
  tail_split_ms?: { before_write_ms: number; after_write_ms: number };
  /** Seconds produced before the probes that count; the slowest probe of that warm-up. */
  warm_up_s?: number;
  cold_start_max_ms?: number;
  /**
   * The machine during the measured seconds: cores busy, cores the hypervisor stole, and the
   * worker's own cores. On a shared 2-core VM the tail follows the steal more than the code.
   */
  cpu?: CpuWindow | null;
  machine: string;
}

const WARM_UP_S = 5;

/**
 * The worker's stage histograms (logpipe_stream_stage_seconds) as p99 per stage, in ms; with
 * `since`, of what was observed after that earlier scrape only.
 */
export function stageP99(metricsText: string, since?: string): Record<string, number> {
  const out: Record<string, number> = {};
  const before = since ? histogramBuckets(since, 'logpipe_stream_stage_seconds', 'stage') : new Map();
  for (const [stage, buckets] of histogramBuckets(metricsText, 'logpipe_stream_stage_seconds', 'stage')) {
    const earlier = new Map<number, number>(before.get(stage) ?? []);
    const q = bucketQuantile(
      buckets.map(([le, n]) => [le, n - (earlier.get(le) ?? 0)] as [number, number]),
      0.99,
    );
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
  await ensureTopics(run.kafka, run.config);
  const worker = startWorkerProcess(run);
  await worker.metricsPort;
  // Steady state: the worker has joined the group (the broker delays a new group's first
  // rebalance by group.initial.rebalance.delay.ms, 3 s) and created its tables.
  await Promise.race([worker.joined, sleep(60_000)]);
  await sleep(2000);
  const client = createCassandra(run.config, run.config.CASSANDRA_KEYSPACE);
  await client.connect();

  const pending = new Map<string, { at: Date; sentAt: number; sentWall: number; warmUp: boolean }>();
  const latencies: number[] = [];
  /** Probes sent in the first WARM_UP_S: the first fetch of each partition claims it in HDFS and
   * the first rows of each shape prepare their statements. Reported apart, as the cold start. */
  const coldLatencies: number[] = [];
  /** Per probe: ms from generation to the worker's Cassandra write (ingested_at), and in total. */
  const splits: { toWrite: number; total: number }[] = [];
  let producing = true;
  const reader = (async () => {
    while (producing || pending.size) {
      const reads = probeReads([...pending].map(([id, p]) => ({ id, at: p.at })));
      await Promise.all(
        reads.map(async (read) => {
          const rs = await client.execute(PROBE_READ_CQL(read.keys.length), probeReadParams(read), {
            prepare: true,
          });
          const seenAt = performance.now();
          for (const row of rs.rows) {
            const id = String(row.event_id);
            const p = pending.get(id);
            if (!p || !pending.delete(id)) continue;
            const total = seenAt - p.sentAt;
            if (p.warmUp) {
              coldLatencies.push(total);
              continue;
            }
            latencies.push(total);
            const ingested = row.ingested_at as Date | undefined;
            if (ingested) splits.push({ toWrite: ingested.getTime() - p.sentWall, total });
          }
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
      if (n++ % 50 === 0)
        pending.set(e.event_id, {
          at: new Date(e.timestamp),
          sentAt: performance.now(),
          sentWall: Date.now(),
          warmUp: performance.now() - t0 < WARM_UP_S * 1000,
        });
      yield { key: e.session_id, value: JSON.stringify(e) };
    }
  }
  say(`producing ${rate} events/s for ${WARM_UP_S} s of warm-up, then ${durationS} s measured`);
  const t0 = performance.now();
  const wallT0 = Date.now();
  const metricsUrl = `http://127.0.0.1:${await worker.metricsPort}/metrics`;
  const warmMetrics = sleep(WARM_UP_S * 1000).then(() => fetch(metricsUrl).then((r) => r.text()));
  const cpu = new CpuSampler(() => (worker.child.pid ? [worker.child.pid] : []), 1000);
  const sampler = setInterval(() => {
    if (worker.child.pid) rss = Math.max(rss, rssMiB(worker.child.pid));
  }, 1000);
  const summary = await publish(run.kafka, source(), {
    topic: run.config.KAFKA_TOPIC,
    rate,
    durationMs: (WARM_UP_S + durationS) * 1000,
  });
  producing = false;
  const measuredTo = Date.now();
  const deadline = Date.now() + 30_000;
  while (pending.size && Date.now() < deadline) await sleep(100);
  clearInterval(sampler);
  cpu.stop();
  const cpuWindow = cpu.window(wallT0 + WARM_UP_S * 1000, measuredTo);
  const metricsText = await fetch(metricsUrl).then((r) => r.text());
  const stages = stageP99(metricsText, await warmMetrics);
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
  // The slowest 1% of probes: how much of their time passed before the worker wrote them (producer,
  // broker, fetch, parse, queue) and how much after (the write and the reader's poll).
  const tailProbes = [...splits]
    .sort((a, b) => b.total - a.total)
    .slice(0, Math.max(1, Math.ceil(splits.length / 100)));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const tailSplit = {
    before_write_ms: Math.round(median(tailProbes.map((t) => t.toWrite))),
    after_write_ms: Math.round(median(tailProbes.map((t) => t.total - t.toWrite))),
  };
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
    tail_split_ms: tailSplit,
    warm_up_s: WARM_UP_S,
    cold_start_max_ms: Math.round(Math.max(0, ...coldLatencies)),
    cpu: cpuWindow,
    machine: machine(),
  };
}
