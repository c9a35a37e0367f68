// Helpers for tests that run the real streaming worker against the real stack, each test in its
// own topic, consumer group, Cassandra keyspace and HDFS root, so tests never see each other's data.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileLines } from '../../activities/data-file-lines.ts';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { Hdfs, type HdfsStore } from '../../lib/clients/hdfs.ts';
import { createKafka } from '../../lib/clients/kafka.ts';
import { ensureTopics } from '../../lib/clients/kafka-topics.ts';
import { type Config, dlqTopic, loadConfig, repoRoot } from '../../lib/config.ts';
import { errorMessage } from '../../lib/errors.ts';
import { logpipeNodeArgs, logpipeNodeEnv } from '../../lib/node-args.ts';
import { type OutgoingMessage, publish } from '../../producers/publisher.ts';

export interface Isolated {
  id: string;
  env: NodeJS.ProcessEnv;
  config: Config;
}

export function isolated(name: string, extra: Record<string, string> = {}): Isolated {
  const id = `${name}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const env = {
    ...process.env,
    KAFKA_TOPIC: `t_${id}`,
    STREAM_GROUP_ID: `g_${id}`,
    CASSANDRA_KEYSPACE: `t_${id}`.toLowerCase(),
    HDFS_RAW_ROOT: `/logpipe-test/${id}/raw`,
    HDFS_COMPACTED_ROOT: `/logpipe-test/${id}/compacted`,
    STREAM_METRICS_PORT: '0',
    KAFKA_PARTITIONS: '3',
    HDFS_ROLL_MAX_AGE_MS: '1000',
    LOG_LEVEL: 'info',
    ...extra,
  };
  return { id, env, config: loadConfig(env) };
}

export interface WorkerHandle {
  child: ChildProcess;
  exited: Promise<number | null>;
}

export function startWorker(iso: Isolated, tag = 'worker'): WorkerHandle {
  return startLogpipe(iso, ['worker', 'stream'], tag);
}

/** A `logpipe <args>` process, its output in test-artifacts/logs/<iso id>-<tag>.log. */
export function startLogpipe(
  iso: Isolated,
  args: string[],
  tag: string,
  env: Record<string, string> = {},
): WorkerHandle {
  const dir = join(repoRoot, 'test-artifacts', 'logs');
  mkdirSync(dir, { recursive: true });
  const log = createWriteStream(join(dir, `${iso.id}-${tag}.log`), { flags: 'a' });
  const child = spawn(process.execPath, logpipeNodeArgs(args), {
    env: { ...iso.env, ...logpipeNodeEnv(args), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A test file that ends without stopping its worker (a failed hook) must not leave it running.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.removeListener('exit', reap));
  return { child, exited };
}

export async function stopWorker(
  w: WorkerHandle,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return w.child.exitCode;
  w.child.kill(signal);
  return w.exited;
}

export async function createTopics(iso: Isolated): Promise<void> {
  const kafka = createKafka(iso.config, 'test');
  await ensureTopics(kafka, iso.config);
}

export async function send(
  iso: Isolated,
  messages: Iterable<OutgoingMessage> | AsyncIterable<OutgoingMessage>,
  rate?: number,
) {
  return publish(createKafka(iso.config, 'test-producer'), messages, { topic: iso.config.KAFKA_TOPIC, rate });
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 120_000,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${errorMessage(last)}` : ''}`);
}

/** Every row of the isolated keyspace's ecomm_log: event id to row count (a duplicate shows as 2). */
export async function cassandraEventIds(iso: Isolated): Promise<Map<string, number>> {
  const client = createCassandra(iso.config);
  try {
    const counts = new Map<string, number>();
    // Page by hand: execute returns one page at a time.
    let pageState: string | undefined;
    do {
      const page = await client.execute(
        `SELECT event_id FROM ${iso.config.CASSANDRA_KEYSPACE}.ecomm_log`,
        [],
        { fetchSize: 5000, pageState },
      );
      for (const r of page.rows) counts.set(r.event_id, (counts.get(r.event_id) ?? 0) + 1);
      pageState = page.pageState;
    } while (pageState);
    return counts;
  } catch (err) {
    if (/unconfigured table|Keyspace .* does not exist/i.test(errorMessage(err))) return new Map();
    throw err;
  } finally {
    await client.shutdown();
  }
}

/** Every file under an HDFS folder (by default the raw files of the isolated topic), sorted. */
export async function hdfsFiles(
  iso: Isolated,
  root = `${iso.config.HDFS_RAW_ROOT}/${iso.config.KAFKA_TOPIC}`,
): Promise<string[]> {
  const hdfs = new Hdfs(iso.config);
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Awaited<ReturnType<Hdfs['list']>>;
    try {
      entries = await hdfs.list(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.type === 'DIRECTORY') await walk(`${dir}/${e.pathSuffix}`);
      else out.push(`${dir}/${e.pathSuffix}`);
    }
  };
  await walk(root);
  return out.sort();
}

/** Every raw line in HDFS, parsed: event id to the number of copies. */
export async function hdfsEventIds(iso: Isolated): Promise<Map<string, number>> {
  const hdfs = new Hdfs(iso.config);
  const counts = new Map<string, number>();
  for (const f of await hdfsFiles(iso)) {
    for (const line of (await hdfs.readFile(f)).toString('utf8').split('\n')) {
      if (!line) continue;
      const id = (JSON.parse(line) as { event_id: string }).event_id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/** Every line of an HDFS data file: an NDJSON file's lines, or a lake (Parquet) file's `raw` column. */
export async function dataFileLines(hdfs: HdfsStore, path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of fileLines(hdfs, path)) for (const line of chunk) if (line) out.push(line);
  return out;
}

export interface DlqMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** Reads the isolated dead-letter topic from the beginning until `expected` messages or the timeout. */
export async function dlqMessages(
  iso: Isolated,
  expected: number,
  timeoutMs = 60_000,
): Promise<DlqMessage[]> {
  const kafka = createKafka(iso.config, 'test-dlq');
  const consumer = kafka.consumer({ groupId: `dlq-reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: dlqTopic(iso.config), fromBeginning: true });
  const out: DlqMessage[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    consumer.run({
      eachMessage: async ({ message }) => {
        out.push({
          key: String(message.key),
          value: message.value ?? Buffer.alloc(0),
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
        if (out.length >= expected) {
          clearTimeout(timer);
          // Give a moment for unexpected extra messages to show up.
          setTimeout(resolve, 1500);
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

export const duplicates = (m: Map<string, number>) => [...m.entries()].filter(([, n]) => n > 1);
