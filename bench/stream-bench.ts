// `logpipe bench stream`: the streaming worker's throughput against two baselines measured in the
// same run on the same data: (b) a bare kafkajs consumer draining the topic with no sinks, and
// (c) the same rows written to Cassandra with the same driver and no Kafka (prepared statements,
// executeConcurrent, concurrency tuned on a sample). ratio = a / min(b, c).
import { createCassandra } from '../lib/clients/cassandra.ts';
import { flattenEvent } from '../lib/events/flatten.ts';
import { parseEvent } from '../lib/events/parse.ts';
import { EventGenerator } from '../producers/generator.ts';
import { migrate } from '../workers/streaming/cassandra-schema.ts';
import { CassandraSink } from '../workers/streaming/cassandra-sink.ts';
import {
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

export interface StreamBenchResult {
  events: number;
  worker_eps: number;
  consume_eps: number;
  cassandra_eps: number;
  cassandra_concurrency: number;
  ratio: number;
  worker_rss_mib: number;
  machine: string;
}

const say = (s: string) => process.stderr.write(`[bench stream] ${s}\n`);

async function bareConsume(run: ReturnType<typeof benchRun>, n: number): Promise<number> {
  const consumer = run.kafka.consumer({
    groupId: `${run.config.STREAM_GROUP_ID}-bare`,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: run.config.KAFKA_TOPIC, fromBeginning: true });
  let seen = 0;
  let started = 0;
  const done = new Promise<number>((resolve) => {
    consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        if (!started) started = performance.now();
        seen += batch.messages.length;
        if (seen >= n) resolve(performance.now());
      },
    });
  });
  const t0 = performance.now();
  const end = await done;
  await consumer.disconnect();
  return (n * 1000) / (end - t0);
}

async function cassandraOnly(
  run: ReturnType<typeof benchRun>,
  lines: string[],
): Promise<{ eps: number; concurrency: number }> {
  const client = createCassandra(run.config);
  await client.connect();
  const keyspace = `${run.config.CASSANDRA_KEYSPACE}_c`;
  await migrate(client, keyspace);
  // The same work the worker does per event, without Kafka: parse, flatten, two upserts.
  const rows = () =>
    lines.map((l) => {
      const r = parseEvent(l);
      if (!r.ok) throw new Error(r.detail);
      return flattenEvent(r.event);
    });
  // Tune the concurrency on a sample, then write everything with the best.
  const sample = rows().slice(0, Math.min(20_000, lines.length));
  let best = { concurrency: 64, eps: 0 };
  for (const concurrency of [32, 64, 128, 256]) {
    const sink = new CassandraSink(client, keyspace, concurrency);
    const t0 = performance.now();
    for (let i = 0; i < sample.length; i += 2000) await sink.write(sample.slice(i, i + 2000));
    const eps = (sample.length * 1000) / (performance.now() - t0);
    say(`  cassandra concurrency ${concurrency}: ${eps.toFixed(0)} events/s`);
    if (eps > best.eps) best = { concurrency, eps };
  }
  await client.execute(`TRUNCATE ${keyspace}.ecomm_log`);
  await client.execute(`TRUNCATE ${keyspace}.events_by_user`);
  const sink = new CassandraSink(client, keyspace, best.concurrency);
  const t0 = performance.now();
  const all = rows();
  for (let i = 0; i < all.length; i += 2000) await sink.write(all.slice(i, i + 2000));
  const eps = (all.length * 1000) / (performance.now() - t0);
  await client.execute(`DROP KEYSPACE ${keyspace}`);
  await client.shutdown();
  return { eps, concurrency: best.concurrency };
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

  say('(b) bare kafkajs consumer, no sinks');
  const consumeEps = await bareConsume(run, events);
  say(`    ${consumeEps.toFixed(0)} events/s`);

  say('(c) the same rows into Cassandra, no Kafka');
  const cass = await cassandraOnly(
    run,
    values.map((v) => v.value),
  );
  say(`    ${cass.eps.toFixed(0)} events/s (concurrency ${cass.concurrency})`);

  say('(a) the streaming worker into Cassandra and HDFS');
  const worker = startWorkerProcess({
    ...run,
    env: { ...run.env, STREAM_CASSANDRA_CONCURRENCY: String(cass.concurrency) },
  });
  await worker.metricsPort;
  const t0 = performance.now();
  let rss = 0;
  while (!(await groupCaughtUp(run, ends))) {
    if (worker.child.pid) rss = Math.max(rss, rssMiB(worker.child.pid));
    await sleep(200);
  }
  const workerEps = (events * 1000) / (performance.now() - t0);
  say(`    ${workerEps.toFixed(0)} events/s, worker RSS up to ${rss} MiB`);
  worker.child.kill('SIGTERM');
  await worker.exited;
  await cleanup(run, [run.config.CASSANDRA_KEYSPACE]);

  const ratio = workerEps / Math.min(consumeEps, cass.eps);
  return {
    events,
    worker_eps: Math.round(workerEps),
    consume_eps: Math.round(consumeEps),
    cassandra_eps: Math.round(cass.eps),
    cassandra_concurrency: cass.concurrency,
    ratio: Math.round(ratio * 1000) / 1000,
    worker_rss_mib: rss,
    machine: machine(),
  };
}
