// `logpipe bench batch`: the batch workflow on N events (default 1,000,000) written to HDFS as the
// streaming worker writes them (files per partition and hour, at most HDFS_ROLL_MAX_EVENTS lines),
// run by a real batch worker process on the real Temporal server. Baseline, measured in the same
// run: psql's \copy of the same rows from local CSV files into tables of the same shape.
// Then a second run after 1% new events, whose time is compared with the first's, and the dbt
// steps of both runs (the first builds the warehouse from nothing, the second is incremental).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { csvLine, rowOf } from '../activities/rows.ts';
import { columnsOf, schemaDdl, TABLE_OF } from '../activities/warehouse-schema.ts';
import { Hdfs } from '../lib/clients/hdfs.ts';
import { createPgPool } from '../lib/clients/postgres.ts';
import { connectTemporal } from '../lib/clients/temporal.ts';
import type { LogEvent } from '../lib/events/schema.ts';
import { logpipeNodeArgs } from '../lib/node-args.ts';
import { EventGenerator } from '../producers/generator.ts';
import { postgresBinDir } from '../stack/postgres.ts';
import { hourDir, rawFileName } from '../workers/streaming/raw-layout.ts';
import type { HdfsToWarehouseResult, StepTime } from '../workflows/hdfs-to-warehouse.ts';
import { type BenchRun, benchRun, cleanup, machine, sleep } from './bench-env.ts';

export interface BatchBenchResult {
  events: number;
  files: number;
  mib: number;
  run1_s: number;
  run1_steps: StepTime[];
  load_rows_per_s: number;
  run_rows_per_s: number;
  psql_copy_rows_per_s: number;
  ratio_load_to_psql: number;
  new_events: number;
  run2_s: number;
  ratio_run2_to_run1: number;
  dbt_full_s: number;
  dbt_incremental_s: number;
  ratio_dbt_incremental_to_full: number;
  dbt_tests: number;
  machine: string;
}

const say = (s: string) => process.stderr.write(`[bench batch] ${s}\n`);
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

/** Per-type CSV files with the same rows the loader COPYs, for psql's \copy. */
class CsvFiles {
  readonly files = new Map<string, WriteStream>();
  constructor(private readonly dir: string) {}
  write(e: LogEvent, sourceFile: string): void {
    const table = TABLE_OF[e.event_type];
    let out = this.files.get(table);
    if (!out) {
      out = createWriteStream(join(this.dir, `${table}.csv`));
      this.files.set(table, out);
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

async function psqlCopy(run: BenchRun, schema: string, csv: CsvFiles, dir: string): Promise<number> {
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
  const t0 = performance.now();
  for (const [type, table] of Object.entries(TABLE_OF)) {
    if (!csv.files.has(table)) continue;
    const cols = [...columnsOf(type as LogEvent['event_type']), '_source_file']
      .map((c) => `"${c}"`)
      .join(', ');
    await execa(
      psql,
      [
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        `\\copy ${schema}.${table} (${cols}) FROM '${join(dir, `${table}.csv`)}' WITH (FORMAT csv)`,
      ],
      { env },
    );
  }
  return (performance.now() - t0) / 1000;
}

async function startBatchWorker(run: BenchRun) {
  const child = spawn(process.execPath, logpipeNodeArgs(['worker', 'batch']), {
    env: { ...run.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const client = await connectTemporal(run.config);
  for (let i = 0; i < 240; i++) {
    const res = await client.workflowService.describeTaskQueue({
      namespace: run.config.TEMPORAL_NAMESPACE,
      taskQueue: { name: run.config.BATCH_TASK_QUEUE },
      taskQueueType: 1,
    });
    if ((res.pollers?.length ?? 0) > 0) return { child, exited, client };
    await sleep(500);
  }
  child.kill('SIGKILL');
  throw new Error('the batch worker did not start polling within 2 minutes');
}

const dbtSeconds = (r: HdfsToWarehouseResult) =>
  r.steps.filter((s) => s.step.startsWith('dbt ')).reduce((a, s) => a + s.ms, 0) / 1000;

export async function batchBench(n: number): Promise<BatchBenchResult> {
  const stamp = Date.now().toString(36);
  const run = benchRun('batch', {
    WAREHOUSE_RAW_SCHEMA: `bench_raw_${stamp}`,
    WAREHOUSE_SCHEMA: `bench_wh_${stamp}`,
    BATCH_TASK_QUEUE: `bench-batch-${stamp}`,
  });
  const copySchema = `bench_copy_${stamp}`;
  const dir = await mkdtemp(join(tmpdir(), 'logpipe-bench-batch-'));
  const offsets = Array.from({ length: run.config.KAFKA_PARTITIONS }, () => 0n);
  let worker: Awaited<ReturnType<typeof startBatchWorker>> | undefined;
  try {
    // Ten hours of events ending half an hour ago: most hours are closed and get compacted.
    const span = 10 * 3600;
    const start = new Date(Date.now() - (span + 1800) * 1000);
    say(`writing ${n} events to HDFS and CSV (setup, not measured)`);
    const csv = new CsvFiles(dir);
    const written = await writeRawFiles(
      run,
      new EventGenerator({ seed: `bench-${stamp}`, start, rate: n / span }).take(n),
      offsets,
      csv,
    );
    await csv.close();
    say(`${written.files} files, ${Math.round(written.bytes / 2 ** 20)} MiB; baseline: psql \\copy`);
    const psqlSeconds = await psqlCopy(run, copySchema, csv, dir);
    say(`psql \\copy: ${psqlSeconds.toFixed(1)} s; run 1 (compact, load, dbt from nothing)`);
    worker = await startBatchWorker(run);
    const execute = async () => {
      const t0 = performance.now();
      const result = (await worker?.client.workflow.execute('hdfsToWarehouse', {
        taskQueue: run.config.BATCH_TASK_QUEUE,
        workflowId: `bench-batch-${stamp}-${Date.now()}`,
        args: [{ dbt: true }],
      })) as HdfsToWarehouseResult;
      return { result, seconds: (performance.now() - t0) / 1000 };
    };
    const first = await execute();
    if (first.result.load.inserted !== n)
      throw new Error(`run 1 loaded ${first.result.load.inserted} rows, expected ${n}`);
    const newEvents = Math.max(1, Math.round(n / 100));
    say(`run 1: ${first.seconds.toFixed(1)} s; writing ${newEvents} new events (1%), run 2`);
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
    const loadMs = first.result.steps.find((s) => s.step === 'load')?.ms ?? 1;
    const loadRps = n / (loadMs / 1000);
    const psqlRps = n / psqlSeconds;
    return {
      events: n,
      files: written.files,
      mib: Math.round(written.bytes / 2 ** 20),
      run1_s: round(first.seconds, 1),
      run1_steps: first.result.steps,
      load_rows_per_s: Math.round(loadRps),
      run_rows_per_s: Math.round(n / first.seconds),
      psql_copy_rows_per_s: Math.round(psqlRps),
      ratio_load_to_psql: round(loadRps / psqlRps),
      new_events: newEvents,
      run2_s: round(second.seconds, 1),
      ratio_run2_to_run1: round(second.seconds / first.seconds),
      dbt_full_s: round(dbtSeconds(first.result), 1),
      dbt_incremental_s: round(dbtSeconds(second.result), 1),
      ratio_dbt_incremental_to_full: round(dbtSeconds(second.result) / dbtSeconds(first.result)),
      dbt_tests: second.result.dbt?.tests.length ?? 0,
      machine: machine(),
    };
  } finally {
    if (worker) {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await worker.client.connection.close();
    }
    await rm(dir, { recursive: true, force: true });
    const pool = createPgPool(run.config);
    const wh = run.config.WAREHOUSE_SCHEMA;
    for (const s of [run.config.WAREHOUSE_RAW_SCHEMA, wh, `${wh}_staging`, `${wh}_snapshots`, copySchema])
      await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
    await pool.end();
    await cleanup(run, []);
  }
}
