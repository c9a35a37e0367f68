// The one place logpipe reads its settings from the environment. Defaults match the local stack
// (stack/), so pointing these variables at other servers is all it takes to use them instead.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const hostPort = /^[A-Za-z0-9_.-]+:\d{1,5}$/;

const hostPortList = z
  .string()
  .trim()
  .min(1)
  .transform((s) => s.split(',').map((x) => x.trim()))
  .refine((xs) => xs.every((x) => hostPort.test(x) && portOk(Number(x.split(':')[1]))), {
    message: 'expected a comma-separated list of host:port, e.g. 127.0.0.1:9092',
  });

const hostList = z
  .string()
  .trim()
  .min(1)
  .transform((s) => s.split(',').map((x) => x.trim()))
  .refine((xs) => xs.every((x) => /^[A-Za-z0-9_.-]+(:\d{1,5})?$/.test(x)), {
    message: 'expected a comma-separated list of hosts (host or host:port), e.g. 127.0.0.1',
  });

function portOk(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n < 65536;
}

/**
 * A whole number written in decimal digits only: "0x10", "1e3", "12.0" or "-1" are refused (a
 * coercion would take them), and so is anything outside [min, max], so a typo cannot turn into a
 * roll size of a terabyte or a partition count of a million.
 */
const wholeNumber = (expected: string, min: number, max: number) => {
  const message = `expected ${expected} (a whole number in decimal digits from ${min} to ${max})`;
  return z
    .string()
    .trim()
    .regex(/^\d{1,15}$/, message)
    .transform(Number)
    .pipe(z.number().int(message).min(min, message).max(max, message));
};

const port = wholeNumber('a port number', 1, 65535);

const httpUrl = z
  .string()
  .trim()
  .refine((s) => /^https?:\/\/[^/\s]+/.test(s), {
    message: 'expected an http(s) URL, e.g. http://127.0.0.1:9870',
  })
  .transform((s) => s.replace(/\/+$/, ''));

const nonEmpty = z.string().trim().min(1, 'expected a non-empty value');

/** Kafka's own rule for topic names; the topic is also a folder name in HDFS. */
const topicName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name: letters, digits, . _ and -, at most 249')
  .refine((s) => s !== '.' && s !== '..', { message: 'expected a Kafka topic name, not . or ..' });

/** Letters, digits, . _ and -: safe in CQL literals, HDFS paths, metric labels and URLs. */
const plainName = (expected: string, max: number) =>
  z
    .string()
    .trim()
    .regex(
      new RegExp(`^[A-Za-z0-9._-]{1,${max}}$`),
      `expected ${expected}: letters, digits, . _ and -, at most ${max}`,
    );

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  message: 'expected one of fatal, error, warn, info, debug, trace, silent',
});

/** Every variable logpipe reads, with its default and the form it expects. */
export const configSchema = z.object({
  LOGPIPE_DATA_DIR: nonEmpty.default(join(repoRoot, '.logpipe')),
  LOGPIPE_CACHE_DIR: nonEmpty.default(
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'logpipe'),
  ),
  LOG_LEVEL: logLevel.default('info'),
  KAFKA_BROKERS: hostPortList.default(['127.0.0.1:9092']),
  KAFKA_TOPIC: topicName.default('LogEvents'),
  /** Dead-letter topic; defaults to `${KAFKA_TOPIC}.dlq`. */
  KAFKA_DLQ_TOPIC: topicName.optional(),
  KAFKA_PARTITIONS: wholeNumber('a number of partitions, e.g. 6', 1, 10_000).default(6),
  /** Replicas of the topics logpipe creates: 1 on the local stack, 3 on a three-broker cluster. */
  KAFKA_REPLICATION_FACTOR: wholeNumber('a number of replicas, e.g. 3', 1, 32).default(1),
  STREAM_GROUP_ID: plainName('a consumer group id', 255).default('logpipe-streaming'),
  /** Messages larger than this go to the dead-letter topic. */
  MAX_EVENT_BYTES: wholeNumber('a size in bytes, e.g. 65536', 256, 16 * 1024 * 1024).default(65_536),
  /** Dead letters above this size are cut to it (header truncated_from_bytes); below the broker's message.max.bytes. */
  DLQ_MAX_VALUE_BYTES: wholeNumber('a size in bytes, e.g. 524288', 1024, 16 * 1024 * 1024).default(
    512 * 1024,
  ),
  HDFS_RAW_ROOT: z
    .string()
    .regex(/^\/[^\s]*[^/\s]$/, 'expected an absolute HDFS path, e.g. /logpipe/raw')
    .default('/logpipe/raw'),
  /**
   * A partition's raw HDFS file is rolled when any of these is reached. Every roll costs HDFS a
   * create, a marker and renames: bench stream measured HDFS's CPU per 400 k events at 11.8 s with
   * rolls of 5,000 events / 4 MiB and 7.9 s at 20,000 / 16 MiB (the age still bounds the delay).
   */
  HDFS_ROLL_MAX_EVENTS: wholeNumber('a number of events, e.g. 20000', 1, 10_000_000).default(20_000),
  HDFS_ROLL_MAX_BYTES: wholeNumber('a size in bytes, e.g. 16777216', 1024, 1024 * 1024 * 1024).default(
    16 * 1024 * 1024,
  ),
  HDFS_ROLL_MAX_AGE_MS: wholeNumber('a duration in milliseconds, e.g. 10000', 10, 3_600_000).default(10_000),
  /** 0 picks a free port (several workers on one host). */
  STREAM_METRICS_PORT: wholeNumber('a port number, 0 for any free one', 0, 65535).default(9464),
  /** Interface of the metrics endpoint; 0.0.0.0 only inside a container (docker-compose.yaml). */
  STREAM_METRICS_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'expected a host name or IP address to bind, e.g. 127.0.0.1')
    .default('127.0.0.1'),
  STREAM_CASSANDRA_CONCURRENCY: wholeNumber('a number of requests, e.g. 64', 1, 2048).default(64),
  /** Most bytes one Kafka fetch returns, all partitions together (a partition gets at most a quarter). */
  STREAM_FETCH_MAX_BYTES: wholeNumber('a size in bytes, e.g. 4194304', 65_536, 256 * 1024 * 1024).default(
    4 * 1024 * 1024,
  ),
  /** Most message bytes the worker holds at once (being written, or waiting for their HDFS roll). */
  STREAM_BUFFER_MAX_BYTES: wholeNumber('a size in bytes, e.g. 67108864', 1024 * 1024, 4 * 1024 ** 3).default(
    64 * 1024 * 1024,
  ),
  /**
   * Longest a graceful stop waits for a sink to take the last rolls: past it, the worker stops
   * without committing what is not in both sinks (it comes again from Kafka) instead of hanging.
   */
  STREAM_STOP_TIMEOUT_MS: wholeNumber('a duration in milliseconds, e.g. 60000', 1000, 3_600_000).default(
    60_000,
  ),
  WEBHDFS_URL: httpUrl.default('http://127.0.0.1:9870'),
  HDFS_USER: z
    .string()
    .trim()
    .regex(
      /^[a-z_][a-z0-9_.-]{0,31}$/,
      'expected a user name: lower case letters, digits, _ . and -, e.g. logpipe',
    )
    .default('logpipe'),
  CASSANDRA_CONTACT_POINTS: hostList.default(['127.0.0.1']),
  CASSANDRA_PORT: port.default(9042),
  // Written into the keyspace's replication map: only the characters a data centre name uses.
  CASSANDRA_LOCAL_DC: plainName('a data centre name, e.g. datacenter1', 48).default('datacenter1'),
  /**
   * Replicas of the keyspace in the local data centre. Above 1 the keyspace uses
   * NetworkTopologyStrategy and the worker writes at LOCAL_QUORUM.
   */
  CASSANDRA_REPLICATION_FACTOR: wholeNumber('a number of replicas, e.g. 3', 1, 32).default(1),
  CASSANDRA_KEYSPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,47}$/, 'expected a keyspace name: lower case letters, digits and _')
    .default('logs'),
  PGHOST: nonEmpty.default('127.0.0.1'),
  PGPORT: port.default(5432),
  PGUSER: nonEmpty.default('logpipe'),
  // The local stack's own default password; set PGPASSWORD for any other server.
  PGPASSWORD: z.string().default('logpipe'),
  PGDATABASE: nonEmpty.default('logpipe'),
  TEMPORAL_ADDRESS: z
    .string()
    .trim()
    .regex(hostPort, 'expected host:port, e.g. 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: nonEmpty.default('default'),
  TEMPORAL_UI_URL: httpUrl.default('http://127.0.0.1:8233'),
  DBT_PROFILES_DIR: nonEmpty.default(join(repoRoot, 'dbt')),
  /** PostgreSQL schema of the raw tables the batch loads (dbt's sources). */
  WAREHOUSE_RAW_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a schema name: lower case letters, digits and _')
    .default('raw'),
  /** PostgreSQL schema dbt builds the marts in (staging and snapshots go to <it>_staging, <it>_snapshots). */
  WAREHOUSE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'expected a schema name: lower case letters, digits and _')
    .default('analytics'),
  BATCH_TASK_QUEUE: plainName('a task queue name, e.g. batch', 200).default('batch'),
  /**
   * Activities one batch worker process runs at once (its PostgreSQL pool is sized for them); a
   * run's further activities wait in the queue for another worker.
   */
  BATCH_WORKER_ACTIVITIES: wholeNumber('a number of activities, e.g. 4', 1, 64).default(4),
  /** The lake: each closed hour compacted into one Parquet file (Hive layout: <root>/<topic>/dt=…/hour=…/). */
  HDFS_COMPACTED_ROOT: z
    .string()
    .regex(/^\/[^\s]*[^/\s]$/, 'expected an absolute HDFS path, e.g. /logpipe/lake')
    .default('/logpipe/lake'),
  /** An hour is compacted once it ended this long ago (late events still land in raw files after). */
  COMPACT_GRACE_MINUTES: wholeNumber('a number of minutes, e.g. 15', 1, 10_080).default(15),
  /**
   * dbt's generic tests of the incremental models read only the rows a build added; every this
   * many minutes a build tests every row (the full sweep). 0: every build is a full sweep.
   */
  DBT_FULL_TESTS_EVERY_MINUTES: wholeNumber('a number of minutes, e.g. 60', 0, 10_080).default(60),
  /**
   * How the batch worker runs dbt: `server`, one long-lived dbt process per worker that keeps the
   * parsed project in memory (lib/dbt_server.py: a build skips ~3 s of Python start and parse), or
   * `process`, a new dbt process for every build.
   */
  DBT_RUNNER: z.enum(['server', 'process'], { message: 'expected server or process' }).default('server'),
  /** Slack-compatible incoming webhook: a message when a batch run fails. */
  ALERT_WEBHOOK_URL: httpUrl.optional(),
  /** Also post when a run succeeds. */
  ALERT_ON_SUCCESS: z.enum(['true', 'false'], { message: 'expected true or false' }).default('false'),
  /** The dashboard's HTTP port and interface (127.0.0.1: not reachable from other machines). */
  DASHBOARD_PORT: port.default(8501),
  DASHBOARD_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'expected a host name or IP address to bind, e.g. 127.0.0.1')
    .default('127.0.0.1'),
  /** Host names besides the loopback ones and DASHBOARD_HOST that the dashboard answers to (comma-separated). */
  DASHBOARD_ALLOWED_HOSTS: z
    .string()
    .trim()
    .transform((s) => (s ? s.split(',').map((x) => x.trim()) : []))
    .refine((xs) => xs.every((x) => /^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])$/.test(x)), {
      message: 'expected host names separated by commas, e.g. dashboard.example.com,10.0.0.5',
    })
    .default([]),
  /** Streaming workers' metrics endpoints the dashboard reads (comma-separated base URLs). */
  DASHBOARD_STREAM_METRICS_URLS: z
    .string()
    .trim()
    .transform((s) => s.split(',').map((x) => x.trim().replace(/\/+$/, '')))
    .refine((xs) => xs.every((x) => /^https?:\/\/[^/\s]+$/.test(x)), {
      message: 'expected a comma-separated list of http(s) base URLs, e.g. http://127.0.0.1:9464',
    })
    .default(['http://127.0.0.1:9464']),
  /**
   * Test aid, never set in production: the batch worker makes the first attempt of every activity
   * wait this long (heartbeating) before it runs, so a fault test can see the activity started and
   * kill the worker inside it (see lib/failpoints.ts). Unset: no pause.
   */
  LOGPIPE_FAILPOINT_ACTIVITY_PAUSE_MS: wholeNumber('a duration in milliseconds', 0, 600_000).optional(),
  /** Identical API requests within this many milliseconds share one answer (0: every request is computed). */
  DASHBOARD_RESPONSE_CACHE_MS: wholeNumber('a duration in milliseconds', 0, 60_000).default(1000),
});

export type Config = z.infer<typeof configSchema>;

export const dlqTopic = (c: Pick<Config, 'KAFKA_TOPIC' | 'KAFKA_DLQ_TOPIC'>) =>
  c.KAFKA_DLQ_TOPIC ?? `${c.KAFKA_TOPIC}.dlq`;

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string; value: string | undefined }[]) {
    super(
      `invalid configuration:\n${problems
        .map((p) => `  ${p.variable}=${JSON.stringify(p.value ?? '')}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Reads and checks the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = configSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '?');
      return { variable, message: issue.message, value: input[variable] };
    }),
  );
}
