// `logpipe bench batch`: the batch workflow on N events (default 1,000,000) written to HDFS as the
// streaming worker writes them (files per partition and hour, at most HDFS_ROLL_MAX_EVENTS lines),
// run by W real batch worker processes (--workers, default 1) on the real Temporal server.
// Baselines, measured in the same run: psql's \copy of the same rows from local CSV files into
// tables of the same shape, with as many copies at once as the workflow loads groups at once; the
// HDFS read rate and the conversion-only rate (the contract check and CSV rows, no database) over
// the same files. Then a second run after 1% new events and a third with nothing new, compared
// with the first, and the dbt step of the first two (build from nothing vs incremental).
// A CHECKPOINT starts the psql baseline and run 1 alike, and the baseline's tables are dropped
// before run 1, so neither measurement pays for the other's writes (see `settle`).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { listRawFiles } from '../activities/hdfs-files.ts';
import { csvLine, rowOf, splitChunk } from '../activities/rows.ts';
import { columnsOf, schemaDdl, TABLE_OF } from '../activities/warehouse-schema.ts';
import { createCassandra } from '../lib/clients/cassandra.ts';
import { Hdfs } from '../lib/clients/hdfs.ts';
import { lineChunks } from '../lib/clients/hdfs-lines.ts';
import { createPgPool } from '../lib/clients/postgres.ts';
import { connectTemporal, queuePollers } from '../lib/clients/temporal.ts';
import { errorMessage } from '../lib/errors.ts';
import type { LogEvent } from '../lib/events/schema.ts';
import { hourDir, rawFileName } from '../lib/hdfs-layout.ts';
import { logpipeNodeArgs, logpipeNodeEnv } from '../lib/node-args.ts';
import { EventGenerator } from '../producers/generator.ts';
import { postgresBinDir } from '../stack/postgres.ts';
import { migrate } from '../workers/streaming/cassandra-schema.ts';
import type { HdfsToWarehouseResult, StepTime } from '../workflows/hdfs-to-warehouse.ts';
import { fanOut } from '../workflows/load-plan.ts';
import { type BenchRun, benchRun, cleanup, machine, sleep } from './bench-env.ts';
import { CpuSampler, type CpuWindow } from './cpu-window.ts';

export interface BatchBenchResult {
  events: number;
  /** Batch worker processes polling the queue. */
  workers: number;
  /** Load (and compaction) activities the workflow runs at once; psql's copies at once too. */
  parallelism: number;
  /** Hours the events span (the largest hour holds about events / span_hours). */
  span_hours: number;
  /** The batch workers' peak resident memory during run 1 (VmHWM, the largest of them). */
  worker_peak_rss_mib: number;
  files: number;
  mib: number;
  run1_s: number;
  run1_steps: StepTime[];
  load_rows_per_s: number;
  run_rows_per_s: number;
  psql_copy_rows_per_s: number;
  ratio_load_to_psql: number;
  /** Reading every raw file from WebHDFS a range at a time, as the loader does. */
  hdfs_read_mib_per_s: number;
  /** The loader's conversion alone (contract check, CSV rows) on the same lines, one core. */
  convert_rows_per_s: number;
  new_events: number;
  run2_s: number;
  ratio_run2_to_run1: number;
  /** A run with nothing new (dbt skipped unless the catalog changed). */
  run3_s: number;
  ratio_run3_to_run1: number;
  dbt_full_s: number;
  dbt_incremental_s: number;
  ratio_dbt_incremental_to_full: number;
  dbt_tests: number;
  /** Run 2's slowest dbt models, slowest first: what its cost goes to. */
  run2_slowest_models: SlowModel[];
  /** Cores busy during run 1's compact and load steps: were there spare cores for more workers? */
  compact_cpu: CpuWindow | null;
  load_cpu: CpuWindow | null;
  machine: string;
}

export interface SlowModel {
  name: string;
  seconds: number;
}

/** The `count` models of a run's dbt build that took longest, slowest first. */
export const slowestModels = (r: HdfsToWarehouseResult, count = 5): SlowModel[] =>
  [...(r.dbt?.models ?? [])]
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
    .map(({ name, seconds }) => ({ name, seconds: round(seconds, 2) }));

const say = (s: string) => process.stderr.write(`[bench batch] ${s}\n`);
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

/** Per-type CSV files with the same rows the loader COPYs, for psql's \copy, in `shards` per type. */
class CsvFiles {
  readonly files = new Map<string, WriteStream>();
  private readonly next = new Map<string, number>();
  constructor(
    private readonly dir: string,
    private readonly shards: number,
  ) {}
  write(e: LogEvent, sourceFile: string): void {
    const table = TABLE_OF[e.event_type];
    const shard = (this.next.get(table) ?? 0) % this.shards;
    this.next.set(table, shard + 1);
    const name = `${table}.${shard}`;
    let out = this.files.get(name);
    if (!out) {
      out = createWriteStream(join(this.dir, `${name}.csv`));
      this.files.set(name, out);
    }
    out.write(csvLine([...rowOf(e), sourceFile]));
  }
  async close(): Promise<void> {
    for (const f of this.files.values()) {
      f.end();
      await once(f, 'finish');
    }
  }
}

/** Writes events to HDFS in the streaming worker's layout; returns files and bytes written. */
async function writeRawFiles(
  run: BenchRun,
  events: Iterable<LogEvent>,
  offsets: bigint[],
  csv?: CsvFiles,
): Promise<{ files: number; bytes: number; events: number }> {
  const hdfs = new Hdfs(run.config);
  const max = run.config.HDFS_ROLL_MAX_EVENTS;
  const open = new Map<
    string,
    { dir: string; partition: number; first: bigint; lines: string[]; events: LogEvent[] }
  >();
  const writes: Promise<void>[] = [];
  let files = 0;
  let bytes = 0;
  let count = 0;
  const flush = async (key: string) => {
    const f = open.get(key);
    if (!f) return;
    open.delete(key);
    const name = rawFileName({
      topic: run.config.KAFKA_TOPIC,
      partition: f.partition,
      firstOffset: f.first,
      lastOffset: f.first + BigInt(f.lines.length - 1),
    });
    const text = `${f.lines.join('\n')}\n`;
    for (const e of f.events) csv?.write(e, `${f.dir}/${name}`);
    files++;
    bytes += Buffer.byteLength(text);
    writes.push(hdfs.writeFile(`${f.dir}/${name}`, text));
    if (writes.length >= 4) await writes.shift();
  };
  for (const e of events) {
    count++;
    let h = 0;
    for (let i = 0; i < e.session_id.length; i++) h = (h * 31 + e.session_id.charCodeAt(i)) | 0;
    const partition = Math.abs(h) % run.config.KAFKA_PARTITIONS;
    const dir = hourDir(run.config.HDFS_RAW_ROOT, run.config.KAFKA_TOPIC, new Date(e.timestamp));
    // One open file per partition: the worker rolls when the hour changes or the file is full.
    const key = String(partition);
    const cur = open.get(key);
    if (cur && (cur.dir !== dir || cur.lines.length >= max)) await flush(key);
    const f = open.get(key) ?? {
      dir,
      partition,
      first: offsets[partition] as bigint,
      lines: [],
      events: [],
    };
    open.set(key, f);
    f.lines.push(JSON.stringify(e));
    f.events.push(e);
    offsets[partition] = (offsets[partition] as bigint) + 1n;
  }
  for (const key of [...open.keys()]) await flush(key);
  await Promise.all(writes);
  return { files, bytes, events: count };
}

/**
 * Starts a measurement from a clean database: a CHECKPOINT writes what earlier steps dirtied, so
 * no checkpoint (timed every 5 minutes, or forced by the WAL a load writes) lands inside the psql
 * baseline or run 1's load, and neither pays for the other's writes. Skipped, with a word, where
 * the role may not checkpoint.
 */
async function settle(run: BenchRun): Promise<void> {
  const pool = createPgPool(run.config);
  try {
    await pool.query('CHECKPOINT');
  } catch (err) {
    say(`no CHECKPOINT before the measurement (${errorMessage(err)})`);
  } finally {
    await pool.end();
  }
}

async function psqlCopy(
  run: BenchRun,
  schema: string,
  csv: CsvFiles,
  dir: string,
  parallelism: number,
): Promise<number> {
  const pool = createPgPool(run.config);
  try {
    for (const ddl of schemaDdl(schema)) await pool.query(ddl);
  } finally {
    await pool.end();
  }
  const psql = join(postgresBinDir() ?? '/usr/bin', 'psql');
  const env = {
    PGHOST: run.config.PGHOST,
    PGPORT: String(run.config.PGPORT),
    PGUSER: run.config.PGUSER,
    PGPASSWORD: run.config.PGPASSWORD,
    PGDATABASE: run.config.PGDATABASE,
  };
  const copies = [...csv.files.keys()].map((name) => {
    const table = name.slice(0, name.indexOf('.'));
    const type = Object.entries(TABLE_OF).find(([, t]) => t === table)?.[0] as LogEvent['event_type'];
    const cols = [...columnsOf(type), '_source_file'].map((c) => `"${c}"`).join(', ');
    return `\\copy ${schema}.${table} (${cols}) FROM '${join(dir, `${name}.csv`)}' WITH (FORMAT csv)`;
  });
  await settle(run);
  const t0 = performance.now();
  await fanOut(copies, parallelism, (copy) => execa(psql, ['-v', 'ON_ERROR_STOP=1', '-c', copy], { env }));
  const seconds = (performance.now() - t0) / 1000;
  // The baseline's tables go now: their autovacuum must not run inside run 1's load.
  const drop = createPgPool(run.config);
  try {
    await drop.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await drop.end();
  }
  return seconds;
}

/** Reads every raw file as the loader does, timing the reads and the conversion apart. */
async function readAndConvert(
  run: BenchRun,
): Promise<{ readS: number; convertS: number; bytes: number; rows: number }> {
  const hdfs = new Hdfs(run.config);
  const files = await listRawFiles(hdfs, run.config.HDFS_RAW_ROOT, run.config.KAFKA_TOPIC);
  let readS = 0;
  let convertS = 0;
  let rows = 0;
  for (const f of files) {
    const chunks = lineChunks(hdfs, f.path)[Symbol.asyncIterator]();
    let lineNo = 1;
    for (;;) {
      const t0 = performance.now();
      const next = await chunks.next();
      readS += (performance.now() - t0) / 1000;
      if (next.done) break;
      const t1 = performance.now();
      const split = await splitChunk(next.value, lineNo, [f.path, 'bench']);
      convertS += (performance.now() - t1) / 1000;
      lineNo += next.value.length;
      rows += Object.values(split.csv).reduce((n, r) => n + r.length, 0);
    }
  }
  return { readS, convertS, bytes: files.reduce((n, f) => n + f.bytes, 0), rows };
}

/** `count` batch worker processes, once each of them polls the bench's task queue. */
async function startBatchWorkers(run: BenchRun, count: number) {
  // LOGPIPE_BENCH_PROFILE=<dir>: each worker writes a V8 CPU profile there when it exits.
  const profile = process.env.LOGPIPE_BENCH_PROFILE;
  const args = logpipeNodeArgs(['worker', 'batch']);
  if (profile) args.unshift('--cpu-prof', `--cpu-prof-dir=${profile}`);
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, args, {
      env: { ...run.env, ...logpipeNodeEnv(['worker', 'batch']), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const exited = Promise.all(children.map((c) => new Promise<void>((r) => c.on('exit', () => r()))));
  const stop = async () => {
    for (const c of children) c.kill('SIGTERM');
    await exited;
  };
  const client = await connectTemporal(run.config);
  for (let i = 0; i < 240; i++) {
    // Activity pollers: one per worker process.
    const pollers = await queuePollers(
      client,
      run.config.TEMPORAL_NAMESPACE,
      run.config.BATCH_TASK_QUEUE,
      'activity',
    );
    if (pollers.length >= count) return { stop, client, pids: children.map((c) => c.pid as number) };
    await sleep(500);
  }
  for (const c of children) c.kill('SIGKILL');
  throw new Error(`${count} batch workers did not all poll within 2 minutes`);
}

const dbtSeconds = (r: HdfsToWarehouseResult) =>
  r.steps.filter((s) => s.step === 'dbt').reduce((a, s) => a + s.ms, 0) / 1000;

/** The workflow's default: load and compaction activities at once. */
const PARALLELISM = 4;

/** The peak resident memory of a process so far (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

export interface BatchBenchOptions {
  /** New events before run 2 (default 1% of n): fixed, to compare runs on warehouses of two sizes. */
  newEvents?: number;
  /** Measure the baselines of run 1's load (psql, HDFS read, conversion); default true. */
  baselines?: boolean;
}

export async function batchBench(
  n: number,
  workers = 1,
  spanHours = 10,
  keep = false,
  options: BatchBenchOptions = {},
): Promise<BatchBenchResult> {
  const baselines = options.baselines ?? true;
  const stamp = Date.now().toString(36);
  const run = benchRun('batch', {
    WAREHOUSE_RAW_SCHEMA: `bench_raw_${stamp}`,
    WAREHOUSE_SCHEMA: `bench_wh_${stamp}`,
    BATCH_TASK_QUEUE: `bench-batch-${stamp}`,
  });
  const copySchema = `bench_copy_${stamp}`;
  const dir = await mkdtemp(join(tmpdir(), 'logpipe-bench-batch-'));
  const offsets = Array.from({ length: run.config.KAFKA_PARTITIONS }, () => 0n);
  let worker: Awaited<ReturnType<typeof startBatchWorkers>> | undefined;
  try {
    // Whole clock hours of events (ten by default) ending at least an hour ago: every one closed
    // and compacted in run 1, each holding events / spanHours.
    const span = spanHours * 3600;
    const start = new Date(Math.floor((Date.now() - (span + 3600) * 1000) / 3_600_000) * 3_600_000);
    say(`writing ${n} events to HDFS and CSV (setup, not measured)`);
    const csv = baselines ? new CsvFiles(dir, PARALLELISM) : undefined;
    const written = await writeRawFiles(
      run,
      new EventGenerator({ seed: `bench-${stamp}`, start, rate: n / span }).take(n),
      offsets,
      csv,
    );
    await csv?.close();
    say(`${written.files} files, ${Math.round(written.bytes / 2 ** 20)} MiB`);
    // Without baselines (bench scaling) the rates that compare with them stay 0.
    let psqlSeconds = Number.POSITIVE_INFINITY;
    let alone = { rows: n, bytes: 0, readS: Number.POSITIVE_INFINITY, convertS: Number.POSITIVE_INFINITY };
    if (csv) {
      say(`baseline: psql \\copy x${PARALLELISM}`);
      psqlSeconds = await psqlCopy(run, copySchema, csv, dir, PARALLELISM);
      say(`psql \\copy: ${psqlSeconds.toFixed(1)} s; HDFS read and conversion alone`);
      alone = await readAndConvert(run);
      if (alone.rows !== n) throw new Error(`the conversion pass made ${alone.rows} rows, expected ${n}`);
      say(`read ${alone.readS.toFixed(1)} s, convert ${alone.convertS.toFixed(1)} s`);
    }
    // The workflow's last step reconciles every store, Cassandra included: the bench's keyspace
    // must exist (empty: these events never went through Kafka, so the ledger shows them as drift).
    const cassandra = createCassandra(run.config);
    await cassandra.connect();
    await migrate(cassandra, run.config.CASSANDRA_KEYSPACE);
    await cassandra.shutdown();
    say(`run 1 on ${workers} worker(s)`);
    worker = await startBatchWorkers(run, workers);
    await settle(run);
    const execute = async () => {
      const t0 = performance.now();
      const result = (await worker?.client.workflow.execute('hdfsToWarehouse', {
        taskQueue: run.config.BATCH_TASK_QUEUE,
        workflowId: `bench-batch-${stamp}-${Date.now()}`,
        args: [{ dbt: true, parallelism: PARALLELISM }],
      })) as HdfsToWarehouseResult;
      return { result, seconds: (performance.now() - t0) / 1000 };
    };
    const sampler = new CpuSampler(() => worker?.pids ?? []);
    const first = await execute();
    sampler.stop();
    const cpuOf = (step: string) => {
      const s = first.result.steps.find((x) => x.step === step);
      return s?.startedAt === undefined ? null : sampler.window(s.startedAt, s.startedAt + s.ms);
    };
    const peakRss = Math.max(...worker.pids.map(peakRssMiB));
    if (first.result.load.inserted !== n)
      throw new Error(`run 1 loaded ${first.result.load.inserted} rows, expected ${n}`);
    const newEvents = options.newEvents ?? Math.max(1, Math.round(n / 100));
    say(`run 1: ${first.seconds.toFixed(1)} s; writing ${newEvents} new events, run 2`);
    await writeRawFiles(
      run,
      new EventGenerator({
        seed: `bench-${stamp}-new`,
        start: new Date(Date.now() - 600_000),
        rate: newEvents / 300,
      }).take(newEvents),
      offsets,
    );
    const second = await execute();
    if (second.result.load.inserted !== newEvents)
      throw new Error(`run 2 loaded ${second.result.load.inserted} rows, expected ${newEvents}`);
    say(`run 2: ${second.seconds.toFixed(1)} s; run 3 with nothing new`);
    const third = await execute();
    if (third.result.filesNew !== 0)
      throw new Error(`run 3 found ${third.result.filesNew} new files, expected 0`);
    const loadMs = first.result.steps.find((s) => s.step === 'load')?.ms ?? 1;
    const loadRps = n / (loadMs / 1000);
    const psqlRps = n / psqlSeconds;
    return {
      events: n,
      workers,
      parallelism: PARALLELISM,
      span_hours: spanHours,
      worker_peak_rss_mib: peakRss,
      files: written.files,
      mib: Math.round(written.bytes / 2 ** 20),
      run1_s: round(first.seconds, 1),
      run1_steps: first.result.steps,
      load_rows_per_s: Math.round(loadRps),
      run_rows_per_s: Math.round(n / first.seconds),
      psql_copy_rows_per_s: Math.round(psqlRps),
      ratio_load_to_psql: psqlRps > 0 ? round(loadRps / psqlRps) : 0,
      hdfs_read_mib_per_s: round(alone.bytes / 2 ** 20 / alone.readS, 1),
      convert_rows_per_s: Math.round(n / alone.convertS),
      new_events: newEvents,
      run2_s: round(second.seconds, 1),
      ratio_run2_to_run1: round(second.seconds / first.seconds),
      run3_s: round(third.seconds, 1),
      ratio_run3_to_run1: round(third.seconds / first.seconds),
      dbt_full_s: round(dbtSeconds(first.result), 1),
      dbt_incremental_s: round(dbtSeconds(second.result), 1),
      ratio_dbt_incremental_to_full: round(dbtSeconds(second.result) / dbtSeconds(first.result)),
      dbt_tests: second.result.dbt?.tests.length ?? 0,
      run2_slowest_models: slowestModels(second.result),
      compact_cpu: cpuOf('compact'),
      load_cpu: cpuOf('load'),
      machine: machine(),
    };
  } finally {
    if (worker) {
      await worker.stop();
      await worker.client.connection.close();
    }
    await rm(dir, { recursive: true, force: true });
    const pool = createPgPool(run.config);
    const wh = run.config.WAREHOUSE_SCHEMA;
    const warehouse = [run.config.WAREHOUSE_RAW_SCHEMA, wh, `${wh}_staging`, `${wh}_snapshots`];
    if (keep) say(`kept schemas ${warehouse.join(', ')} (drop them with DROP SCHEMA ... CASCADE)`);
    for (const s of keep ? [copySchema] : [...warehouse, copySchema])
      await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
    await pool.end();
    await cleanup(run, [run.config.CASSANDRA_KEYSPACE]);
  }
}
