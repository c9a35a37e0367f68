// `logpipe bench dashboard`: p50/p95 of every API endpoint under concurrent clients on loopback,
// with `events` generated events over the last 24 hours in an isolated Cassandra keyspace and
// marts built by dbt from the same events in isolated PostgreSQL schemas. The dashboard runs as its
// own process (as `./logpipe up` runs it); the clients run here. Two baselines measured in the same
// run: /healthz through the same server (HTTP and Node overhead) and the newest 100 rows read
// directly with the Cassandra driver, 20 at a time. Each endpoint is measured twice: as served
// (identical requests within DASHBOARD_RESPONSE_CACHE_MS share one answer) and with that cache off.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatchActivities } from '../activities/batch-activities.ts';
import { loadFileText } from '../activities/load-file.ts';
import { schemaDdl } from '../activities/warehouse-schema.ts';
import { createCassandra } from '../lib/clients/cassandra.ts';
import { Hdfs } from '../lib/clients/hdfs.ts';
import { ensureTopics } from '../lib/clients/kafka-topics.ts';
import { createPgPool } from '../lib/clients/postgres.ts';
import { loadConfig } from '../lib/config.ts';
import { batchBuildArgs, failedNodes, invokeDbt } from '../lib/dbt.ts';
import { errorMessage } from '../lib/errors.ts';
import { dayHour, flattenEvent } from '../lib/events/flatten.ts';
import { logpipeNodeArgs } from '../lib/node-args.ts';
import { EventGenerator } from '../producers/generator.ts';
import { migrate } from '../workers/streaming/cassandra-schema.ts';
import { CassandraSink } from '../workers/streaming/cassandra-sink.ts';
import { benchRun, cleanup, machine, rssMiB, sleep } from './bench-env.ts';

export interface EndpointResult {
  endpoint: string;
  requests: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  first_ms: number;
  errors: number;
}

export interface DashboardBenchResult {
  events: number;
  mart_events: number;
  clients: number;
  requests_per_endpoint: number;
  load_s: number;
  dbt_build_s: number;
  baseline_healthz_p95_ms: number;
  baseline_cassandra_p95_ms: number;
  served: EndpointResult[];
  uncached: EndpointResult[];
  worst_p95_ms: number;
  worst_endpoint: string;
  worst_uncached_p95_ms: number;
  worst_uncached_endpoint: string;
  ratio_worst_p95_to_cassandra_baseline: number;
  dashboard_rss_mib: number;
  machine: string;
}

const say = (s: string) => process.stderr.write(`[bench dashboard] ${s}\n`);
const CHUNK = 10_000;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
const r1 = (x: number) => Math.round(x * 10) / 10;

/** `clients` loops issuing `requests` requests in all; latency of each. */
async function hammer(
  fn: () => Promise<void>,
  clients: number,
  requests: number,
): Promise<{ lat: number[]; errors: number; firstError?: string }> {
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let left = requests;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (left > 0) {
        left--;
        const t0 = performance.now();
        try {
          await fn();
        } catch (err) {
          errors++;
          firstError ??= errorMessage(err);
        }
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { lat: lat.sort((a, b) => a - b), errors, firstError };
}

async function getOk(url: string): Promise<void> {
  const res = await fetch(url);
  const body = await res.arrayBuffer();
  if (res.status !== 200)
    throw new Error(`${url}: HTTP ${res.status} ${Buffer.from(body).toString().slice(0, 200)}`);
}

function startDashboardProcess(env: NodeJS.ProcessEnv, port: number, logPath: string): ChildProcess {
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, logpipeNodeArgs(['dashboard', '--port', String(port)]), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function measure(
  base: string,
  endpoints: string[],
  clients: number,
  requests: number,
): Promise<EndpointResult[]> {
  const out: EndpointResult[] = [];
  for (const endpoint of endpoints) {
    const t0 = performance.now();
    try {
      await getOk(`${base}${endpoint}`);
    } catch (err) {
      say(`first request failed: ${errorMessage(err)}`);
    }
    const first = performance.now() - t0;
    const { lat, errors, firstError } = await hammer(() => getOk(`${base}${endpoint}`), clients, requests);
    // A failed request makes the run's latencies meaningless (a store went away): stop, saying why.
    if (errors)
      throw new Error(`${errors} of ${requests} requests to ${endpoint} failed, e.g. ${firstError}`);
    const r = {
      endpoint,
      requests,
      p50_ms: r1(percentile(lat, 50)),
      p95_ms: r1(percentile(lat, 95)),
      p99_ms: r1(percentile(lat, 99)),
      max_ms: r1(lat.at(-1) ?? 0),
      first_ms: r1(first),
      errors,
    };
    say(
      `${endpoint.padEnd(48)} p50 ${r.p50_ms} ms  p95 ${r.p95_ms} ms  (first ${r.first_ms} ms, errors ${errors})`,
    );
    out.push(r);
  }
  return out;
}

export async function dashboardBench(opts: {
  events: number;
  martEvents?: number;
  clients: number;
  requests: number;
}): Promise<DashboardBenchResult> {
  const run = benchRun('dashboard');
  const id = run.id.toLowerCase().replaceAll('-', '_');
  const keyspace = run.config.CASSANDRA_KEYSPACE;
  const raw = `bench_raw_${id}`.slice(0, 60);
  const wh = `bench_wh_${id}`.slice(0, 40);
  const martEvents = Math.min(opts.martEvents ?? opts.events, opts.events);
  const env = {
    ...run.env,
    WAREHOUSE_RAW_SCHEMA: raw,
    WAREHOUSE_SCHEMA: wh,
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const cassandra = createCassandra(config);
  const pool = createPgPool(config, 4);
  const children: ChildProcess[] = [];
  try {
    // Setup (not measured): the events in Cassandra over the last 24 hours, the marts in PostgreSQL.
    const t0 = performance.now();
    await cassandra.connect();
    await migrate(cassandra, keyspace);
    // Empty topics, so that lag and dead letters read real (empty) partitions.
    await ensureTopics(run.kafka, run.config);
    for (const ddl of schemaDdl(raw)) await pool.query(ddl);
    await createBatchActivities({ config, pool, hdfs: new Hdfs(config), cassandra }).loadCatalog();
    const now = Date.now();
    const span = 23.5 * 3600;
    const gen = new EventGenerator({
      seed: `bench-${run.id}`,
      start: new Date(now - span * 1000),
      rate: opts.events / span,
    });
    const sink = new CassandraSink(cassandra, keyspace, 64);
    let sampleUser = '';
    let pendingLoad: Promise<unknown> = Promise.resolve();
    for (let done = 0, part = 0; done < opts.events; part++) {
      const batch = [...gen.take(Math.min(CHUNK, opts.events - done))];
      sampleUser ||= batch[0]?.user_id ?? '';
      const write = sink.write(batch.map(flattenEvent));
      const forMarts = batch.slice(0, Math.max(0, martEvents - done));
      await pendingLoad;
      pendingLoad = forMarts.length
        ? loadFileText(
            pool,
            raw,
            {
              path: `/bench/${run.id}/part-${part}.ndjson`,
              kind: 'raw',
              dt: new Date(now).toISOString().slice(0, 10),
              hour: 0,
            },
            `${forMarts.map((e) => JSON.stringify(e)).join('\n')}\n`,
            `bench-${run.id}`,
          )
        : Promise.resolve();
      await write;
      done += batch.length;
      if (part % 10 === 9) say(`loaded ${done} events`);
    }
    await pendingLoad;
    const loadS = (performance.now() - t0) / 1000;
    say(
      `${opts.events} events in Cassandra and ${martEvents} in the raw tables in ${loadS.toFixed(1)} s; dbt build ...`,
    );
    const t1 = performance.now();
    const dbt = await invokeDbt(config, batchBuildArgs(true), {
      targetPath: join(tmpdir(), `logpipe-bench-dbt-${id}`, 'target'),
      logPath: join(tmpdir(), `logpipe-bench-dbt-${id}`, 'logs'),
    });
    if (dbt.exitCode !== 0 || failedNodes(dbt.results).length)
      throw new Error(`dbt build failed:\n${dbt.tail}\n${JSON.stringify(failedNodes(dbt.results))}`);
    const dbtS = (performance.now() - t1) / 1000;
    say(`dbt build in ${dbtS.toFixed(1)} s`);

    // Baseline (c): the newest 100 rows straight from the driver, the same concurrency.
    const { day, hour } = dayHour(new Date(now - 3_600_000));
    const direct = await hammer(
      async () => {
        await cassandra.execute(
          `SELECT * FROM ${keyspace}.ecomm_log WHERE day = ? AND hour = ? LIMIT 100`,
          [day, hour],
          {
            prepare: true,
          },
        );
      },
      opts.clients,
      opts.requests,
    );
    const baselineCassandra = r1(percentile(direct.lat, 95));

    const endpoints = [
      '/api/health',
      '/api/overview?range=24h',
      '/api/timeline?range=24h',
      '/api/timeline?range=1h',
      '/api/errors?range=24h',
      '/api/geo?range=24h',
      '/api/events?limit=100',
      '/api/events?type=error&country=US&limit=100',
      `/api/events?user=${sampleUser}&limit=50`,
      '/api/ingestion',
      '/api/lag',
      '/api/dead-letters',
      '/api/batch/runs?limit=10',
      '/api/batch/schedule',
      '/api/analytics/revenue?range=30d',
      '/api/analytics/orders?range=30d',
      '/api/analytics/funnel?range=30d',
      '/api/analytics/products?range=30d&limit=10',
      '/api/analytics/users?limit=50',
    ];
    const logDir = join(run.config.LOGPIPE_DATA_DIR, 'logs', 'bench');
    mkdirSync(logDir, { recursive: true });
    const results: Record<'served' | 'uncached', EndpointResult[]> = { served: [], uncached: [] };
    let healthzP95 = 0;
    let rss = 0;
    for (const mode of ['served', 'uncached'] as const) {
      const port = 18_500 + Math.floor(Math.random() * 1000);
      const child = startDashboardProcess(
        { ...env, DASHBOARD_RESPONSE_CACHE_MS: mode === 'served' ? '1000' : '0' },
        port,
        join(logDir, `${run.id}-dashboard-${mode}.log`),
      );
      children.push(child);
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await getOk(`${base}/healthz`);
          break;
        } catch {
          if (Date.now() > deadline || child.exitCode !== null)
            throw new Error(`the dashboard did not start; log in ${logDir}`);
          await sleep(300);
        }
      }
      say(`${mode}: dashboard at ${base}`);
      // Baseline (b): the server's trivial endpoint.
      const hz = await hammer(() => getOk(`${base}/healthz`), opts.clients, opts.requests);
      if (mode === 'served') healthzP95 = r1(percentile(hz.lat, 95));
      results[mode] = await measure(base, endpoints, opts.clients, opts.requests);
      if (mode === 'served' && child.pid) rss = rssMiB(child.pid);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const worst = (rs: EndpointResult[]) => rs.reduce((a, b) => (b.p95_ms > a.p95_ms ? b : a));
    const ws = worst(results.served);
    const wu = worst(results.uncached);
    return {
      events: opts.events,
      mart_events: martEvents,
      clients: opts.clients,
      requests_per_endpoint: opts.requests,
      load_s: r1(loadS),
      dbt_build_s: r1(dbtS),
      baseline_healthz_p95_ms: healthzP95,
      baseline_cassandra_p95_ms: baselineCassandra,
      served: results.served,
      uncached: results.uncached,
      worst_p95_ms: ws.p95_ms,
      worst_endpoint: ws.endpoint,
      worst_uncached_p95_ms: wu.p95_ms,
      worst_uncached_endpoint: wu.endpoint,
      ratio_worst_p95_to_cassandra_baseline: baselineCassandra ? r1(ws.p95_ms / baselineCassandra) : 0,
      dashboard_rss_mib: rss,
      machine: machine(),
    };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await cassandra.shutdown().catch(() => {});
    for (const s of [raw, wh, `${wh}_staging`, `${wh}_snapshots`])
      await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
    await pool.end();
    await cleanup(run, [keyspace]).catch((err) => say(`cleanup: ${errorMessage(err)}`));
  }
}
