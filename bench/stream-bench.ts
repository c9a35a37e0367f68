// `logpipe bench stream`: the streaming worker's throughput against two baselines measured in the
// same run on the same data: (b) a bare kafkajs consumer draining the topic with no sinks, and
// (c) the same rows written to Cassandra with the worker's own sink (statements, batching and
// concurrency) and no Kafka, from rows flattened before the clock starts. ratio = a / min(b, c).
// Each clock runs in the steady state: from the first message consumed (or row sent) to the last
// one (for the worker: to the commit that covers the last offset). CPU per process comes from
// /proc for the same interval: the worker's own, and Kafka's, Cassandra's and HDFS's.
import { createCassandra } from '../lib/clients/cassandra.ts';
import { tracedScan } from '../lib/clients/cassandra-trace.ts';
import { type FlatEvent, flattenEvent } from '../lib/events/flatten.ts';
import { parseEvent } from '../lib/events/parse.ts';
import { EventGenerator } from '../producers/generator.ts';
import { migrate } from '../workers/streaming/cassandra-schema.ts';
import { CassandraSink } from '../workers/streaming/cassandra-sink.ts';
import { SINK_BACKOFF } from '../workers/streaming/partition-pipeline.ts';
import { retry } from '../workers/streaming/retry.ts';
import {
  type BenchRun,
  benchRun,
  cleanup,
  groupCaughtUp,
  loadTopic,
  machine,
  rssMiB,
  sleep,
  startWorkerProcess,
  topicEnd,
} from './bench-env.ts';
import { cpuSeconds, type ServerName, serverCpu } from './proc.ts';

export interface StreamBenchResult {
  events: number;
  worker_eps: number;
  consume_eps: number;
  cassandra_eps: number;
  cassandra_concurrency: number;
  /** Cassandra writes that failed (a timeout of an overloaded node) and were retried, by run. */
  cassandra_retries?: { worker: number; baseline: number };
  ratio: number;
  worker_rss_mib: number;
  /** Peaks of the worker's V8 heap and of its external memory (Buffers), from its own metrics. */
  worker_heap_mib: number;
  worker_external_mib: number;
  /** The worker process's own CPU time per event while draining, in microseconds. */
  worker_cpu_us_per_event: number;
  /** CPU seconds of each process while the worker drained the topic. */
  cpu_s: Record<'worker' | ServerName, number>;
  /** Tombstone cells Cassandra scanned reading the busiest hour partition the worker wrote. */
  tombstones: number;
  /** Live rows that read scanned. */
  tombstone_check_rows: number;
  machine: string;
}

const say = (s: string) => process.stderr.write(`[bench stream] ${s}\n`);
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

async function bareConsume(run: BenchRun, n: number): Promise<number> {
  const consumer = run.kafka.consumer({
    groupId: `${run.config.STREAM_GROUP_ID}-bare`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: run.config.KAFKA_TOPIC, fromBeginning: true });
  let seen = 0;
  let first = 0;
  const done = new Promise<number>((resolve) => {
    consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        if (!first) first = performance.now();
        seen += batch.messages.length;
        if (seen >= n) resolve(performance.now());
      },
    });
  });
  const end = await done;
  await consumer.disconnect();
  return (n * 1000) / (end - first);
}

async function cassandraOnly(run: BenchRun, flats: FlatEvent[]): Promise<{ eps: number; retries: number }> {
  const client = createCassandra(run.config);
  await client.connect();
  const keyspace = `${run.config.CASSANDRA_KEYSPACE}_c`;
  await migrate(client, keyspace);
  const sink = new CassandraSink(client, keyspace, run.config.STREAM_CASSANDRA_CONCURRENCY);
  // As the worker does: chunks of 2000, several in flight (one per busy partition).
  const CHUNK = 2000;
  const IN_FLIGHT = 6;
  let next = 0;
  // A write Cassandra times out is retried with the worker's backoff, as the worker retries it
  // (the rows are upserts keyed by event id): the baseline pays for an overloaded node as (a) does.
  let retries = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = next; i < flats.length; i = next) {
        next += CHUNK;
        const chunk = flats.slice(i, i + CHUNK);
        const refused = await retry('cassandra', () => sink.write(chunk), {
          ...SINK_BACKOFF,
          attempts: 20,
          onRetry: () => {
            retries++;
          },
        });
        if (refused.length) throw new Error(`Cassandra refused ${refused.length} rows`);
      }
    }),
  );
  const eps = (flats.length * 1000) / (performance.now() - t0);
  await client.execute(`DROP KEYSPACE ${keyspace}`);
  await client.shutdown();
  return { eps, retries };
}

/** The worker's own figures from its metrics: messages consumed, V8 heap and external memory. */
async function workerFigures(
  port: number,
): Promise<{ consumed: number; heapMiB: number; externalMiB: number; cassandraRetries: number }> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let consumed = 0;
    for (const m of text.matchAll(/^logpipe_stream_consumed_total\{[^}]*\} (\d+)/gm))
      consumed += Number(m[1]);
    const retried = /^logpipe_stream_sink_errors_total\{sink="cassandra"\} (\d+)/m.exec(text);
    const gauge = (name: string) =>
      Number(new RegExp(`^logpipe_stream_${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20;
    return {
      consumed,
      heapMiB: gauge('nodejs_heap_size_total_bytes'),
      externalMiB: gauge('nodejs_external_memory_bytes'),
      cassandraRetries: Number(retried?.[1] ?? 0),
    };
  } catch {
    return { consumed: 0, heapMiB: 0, externalMiB: 0, cassandraRetries: 0 };
  }
}

/** Tombstones in the busiest hour partition the worker wrote, from Cassandra's traces of reading it all. */
async function tombstoneCheck(
  run: BenchRun,
  flats: FlatEvent[],
): Promise<{ tombstones: number; rows: number }> {
  const perHour = new Map<string, { day: string; hour: number; n: number }>();
  for (const f of flats) {
    const key = `${f.day}|${f.hour}`;
    const h = perHour.get(key) ?? { day: f.day, hour: f.hour, n: 0 };
    h.n++;
    perHour.set(key, h);
  }
  const busiest = [...perHour.values()].sort((a, b) => b.n - a.n)[0];
  if (!busiest) return { tombstones: 0, rows: 0 };
  const client = createCassandra(run.config);
  await client.connect();
  try {
    const read = await tracedScan(
      client,
      `SELECT * FROM ${run.config.CASSANDRA_KEYSPACE}.ecomm_log WHERE day = ? AND hour = ?`,
      [busiest.day, busiest.hour],
    );
    if (!read.live) throw new Error(`the traced read of ${read.rows} rows found no live rows in its traces`);
    return { tombstones: read.tombstones, rows: read.rows };
  } finally {
    await client.shutdown();
  }
}

export async function streamBench(events: number): Promise<StreamBenchResult> {
  const run = benchRun('stream', { HDFS_ROLL_MAX_AGE_MS: '1000' });
  say(
    `generating ${events} events and loading topic ${run.config.KAFKA_TOPIC} (${run.config.KAFKA_PARTITIONS} partitions)`,
  );
  const gen = new EventGenerator({
    seed: run.id,
    start: new Date(Date.now() - 3_600_000),
    rate: events / 3600,
  });
  const values: { key: string; value: string }[] = [];
  for (let i = 0; i < events; i++) {
    const e = gen.next();
    values.push({ key: e.session_id, value: JSON.stringify(e) });
  }
  await loadTopic(run, values);
  const ends = await topicEnd(run);
  const flats = values.map((v) => {
    const r = parseEvent(v.value);
    if (!r.ok) throw new Error(r.detail);
    return flattenEvent(r.event);
  });
  values.length = 0;

  say('(b) bare kafkajs consumer, no sinks');
  const consumeEps = await bareConsume(run, events);
  say(`    ${consumeEps.toFixed(0)} events/s`);

  const concurrency = run.config.STREAM_CASSANDRA_CONCURRENCY;
  say(`(c) the same rows into Cassandra with the worker's sink, no Kafka (concurrency ${concurrency})`);
  const { eps: cassandraEps, retries: cassandraRetries } = await cassandraOnly(run, flats);
  say(`    ${cassandraEps.toFixed(0)} events/s, ${cassandraRetries} chunk writes retried`);

  say('(a) the streaming worker into Cassandra and HDFS');
  const worker = startWorkerProcess(run);
  const port = await worker.metricsPort;
  const pid = worker.child.pid as number;
  while ((await workerFigures(port)).consumed === 0) await sleep(10);
  const t0 = performance.now();
  const cpu0 = { worker: cpuSeconds(pid), ...serverCpu() };
  let rss = 0;
  let heap = 0;
  let external = 0;
  for (let polls = 0; !(await groupCaughtUp(run, ends)); polls++) {
    if (polls % 2 === 0) rss = Math.max(rss, rssMiB(pid));
    if (polls % 5 === 0) {
      const f = await workerFigures(port);
      heap = Math.max(heap, f.heapMiB);
      external = Math.max(external, f.externalMiB);
    }
    await sleep(100);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = { worker: cpuSeconds(pid), ...serverCpu() };
  const workerEps = events / seconds;
  const workerRetries = (await workerFigures(port)).cassandraRetries;
  const cpu = Object.fromEntries(
    Object.entries(cpu1).map(([k, v]) => [k, round(v - cpu0[k as keyof typeof cpu0], 1)]),
  ) as StreamBenchResult['cpu_s'];
  say(
    `    ${workerEps.toFixed(0)} events/s, worker RSS up to ${rss} MiB (V8 heap ${round(heap)}, external ${round(external)}), CPU s: ${Object.entries(
      cpu,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; ${workerRetries} Cassandra writes retried`,
  );
  worker.child.kill('SIGTERM');
  await worker.exited;
  const tomb = await tombstoneCheck(run, flats);
  say(`    tombstones in the busiest hour: ${tomb.tombstones} (over ${tomb.rows} live rows)`);
  await cleanup(run, [run.config.CASSANDRA_KEYSPACE]);

  return {
    events,
    worker_eps: Math.round(workerEps),
    consume_eps: Math.round(consumeEps),
    cassandra_eps: Math.round(cassandraEps),
    cassandra_concurrency: concurrency,
    cassandra_retries: { worker: workerRetries, baseline: cassandraRetries },
    ratio: round(workerEps / Math.min(consumeEps, cassandraEps), 3),
    worker_rss_mib: rss,
    worker_heap_mib: round(heap),
    worker_external_mib: round(external),
    worker_cpu_us_per_event: round(((cpu1.worker - cpu0.worker) * 1e6) / events, 1),
    cpu_s: cpu,
    tombstones: tomb.tombstones,
    tombstone_check_rows: tomb.rows,
    machine: machine(),
  };
}
