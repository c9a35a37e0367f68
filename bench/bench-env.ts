// Shared pieces of the benchmarks: an isolated topic, keyspace and HDFS root per run, a fast
// loader for the input topic, the streaming worker as a child process, and the machine's description.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { CompressionTypes, type Kafka } from 'kafkajs';
import { createKafka } from '../lib/clients/kafka.ts';
import { ensureTopics } from '../lib/clients/kafka-topics.ts';
import { type Config, dlqTopic, loadConfig } from '../lib/config.ts';
import { logpipeNodeArgs, logpipeNodeEnv } from '../lib/node-args.ts';

export interface BenchRun {
  id: string;
  env: NodeJS.ProcessEnv;
  config: Config;
  kafka: Kafka;
}

export function benchRun(name: string, extra: Record<string, string> = {}): BenchRun {
  const id = `${name}_${Date.now().toString(36)}_${randomUUID().slice(0, 6)}`;
  const env = {
    ...process.env,
    KAFKA_TOPIC: `bench_${id}`,
    STREAM_GROUP_ID: `bench_${id}`,
    CASSANDRA_KEYSPACE: `bench_${id}`.toLowerCase().replaceAll('-', '_'),
    HDFS_RAW_ROOT: `/logpipe-bench/${id}/raw`,
    HDFS_COMPACTED_ROOT: `/logpipe-bench/${id}/compacted`,
    STREAM_METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  };
  const config = loadConfig(env);
  return { id, env, config, kafka: createKafka(config, 'logpipe-bench') };
}

/** Loads the input topic as fast as Kafka takes it (setup, not measured). */
export async function loadTopic(run: BenchRun, values: { key: string; value: string }[]): Promise<void> {
  await ensureTopics(run.kafka, run.config);
  const producer = run.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const BATCH = 2000;
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < values.length; i += BATCH) {
    inFlight.push(
      producer.send({
        topic: run.config.KAFKA_TOPIC,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: values.slice(i, i + BATCH),
      }),
    );
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await producer.disconnect();
}

export async function topicEnd(run: BenchRun): Promise<Map<number, bigint>> {
  const admin = run.kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(run.config.KAFKA_TOPIC);
  await admin.disconnect();
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}

/** True when the group's committed offsets reached the ends of every partition. */
export async function groupCaughtUp(run: BenchRun, ends: Map<number, bigint>): Promise<boolean> {
  const admin = run.kafka.admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({
      groupId: run.config.STREAM_GROUP_ID,
      topics: [run.config.KAFKA_TOPIC],
    });
    return (
      (topic?.partitions ?? []).every((p) => BigInt(p.offset) >= (ends.get(p.partition) ?? 0n)) &&
      (topic?.partitions.length ?? 0) === ends.size
    );
  } finally {
    await admin.disconnect();
  }
}

export function startWorkerProcess(run: BenchRun): {
  child: ChildProcess;
  exited: Promise<void>;
  metricsPort: Promise<number>;
  /** Resolves once the worker has joined its consumer group (partitions assigned). */
  joined: Promise<void>;
} {
  const dir = join(run.config.LOGPIPE_DATA_DIR, 'logs', 'bench');
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, `${run.id}.log`);
  const log = createWriteStream(logPath);
  // LOGPIPE_BENCH_PROFILE=<dir>: the worker writes a V8 CPU profile there when it exits.
  const profile = process.env.LOGPIPE_BENCH_PROFILE;
  const args = logpipeNodeArgs(['worker', 'stream']);
  if (profile) args.unshift('--cpu-prof', `--cpu-prof-dir=${profile}`);
  // LOGPIPE_BENCH_WORKER_NODE_FLAGS="--flag …": extra node flags for the worker, to try V8 settings.
  const flags = process.env.LOGPIPE_BENCH_WORKER_NODE_FLAGS?.trim();
  if (flags) args.splice(args.length - 1, 0, ...flags.split(/\s+/)); // after the defaults: they win
  const child = spawn(process.execPath, args, {
    env: { ...run.env, ...logpipeNodeEnv(['worker', 'stream']), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let joinedNow = () => {};
  const joined = new Promise<void>((resolve) => {
    joinedNow = resolve;
  });
  const metricsPort = new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      log.write(d);
      if (out.length < 100_000) out += d.toString();
      const m = /"metricsPort":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
      if (out.includes('joined the consumer group')) joinedNow();
    });
    child.on('exit', () => reject(new Error(`the worker exited; log: ${logPath}`)));
  });
  metricsPort.catch(() => {});
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, exited, metricsPort, joined };
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Removes what a run created: its topics, keyspaces and HDFS folder, so benches do not pile up. */
export async function cleanup(run: BenchRun, keyspaces: string[]): Promise<void> {
  const { createCassandra } = await import('../lib/clients/cassandra.ts');
  const { Hdfs } = await import('../lib/clients/hdfs.ts');
  const client = createCassandra(run.config);
  try {
    for (const ks of keyspaces) await client.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
  } finally {
    await client.shutdown();
  }
  await new Hdfs(run.config).remove(run.config.HDFS_RAW_ROOT.replace(/\/raw$/, ''), true).catch(() => {});
  const admin = run.kafka.admin();
  await admin.connect();
  // Only the topics the run made (bench batch makes none): a missing one is retried for seconds.
  const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
  const topics = [run.config.KAFKA_TOPIC, dlqTopic(run.config)].filter((t) => existing.has(t));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
}
