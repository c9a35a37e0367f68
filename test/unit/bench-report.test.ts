// bench/REPORT.md from fixed results: every figure with its baseline, ratio, goal and verdict, the
// machine, the command, a failed bench's error, and the quick-run label. No stack, no clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BatchBenchResult, slowestModels } from '../../bench/batch-bench.ts';
import type { DashboardBenchResult, EndpointResult } from '../../bench/dashboard-bench.ts';
import { GOALS, goalLabel, goalMet } from '../../bench/goals.ts';
import type { LatencyBenchResult } from '../../bench/latency-bench.ts';
import { scalingBenchLines } from '../../bench/lines.ts';
import { type BenchReport, type MachineInfo, renderReport, reportRows } from '../../bench/report.ts';
import { DEFAULT_SIZES, QUICK_SIZES } from '../../bench/sizes.ts';
import type { StreamBenchResult } from '../../bench/stream-bench.ts';
import type { HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';

// Made-up figures for the fixture only; they describe no real run.
const machineText = '2 × Test CPU @ 1.00GHz, 4 GiB';
const machine: MachineInfo = {
  cpu_model: 'Test CPU @ 1.00GHz',
  cores: 2,
  ram_gib: 7.8,
  os: 'Debian GNU/Linux 12 (bookworm)',
  kernel: 'Linux 6.1.0-test x86_64',
  node: '20.0.0-test',
  java: 'openjdk 17.0.0-test',
  load_average: [0.25, 0.5, 1],
  stack: {
    kafka: '3.9.1',
    cassandra: '5.0.6',
    hdfs: '3.4.1',
    postgresql: '15.0 (debian package)',
    temporal_cli: '1.5.1',
    dbt_core: '1.10.15',
    dbt_postgres: '1.9.1',
  },
};

const stream: StreamBenchResult = {
  events: 1000,
  worker_eps: 9000,
  consume_eps: 40000,
  cassandra_eps: 10000,
  cassandra_concurrency: 128,
  ratio: 0.9,
  worker_rss_mib: 350,
  worker_heap_mib: 120,
  worker_external_mib: 40,
  worker_cpu_us_per_event: 55.5,
  cpu_s: { worker: 10, kafka: 2, cassandra: 20, hdfs: 1 },
  tombstones: 0,
  tombstone_check_rows: 500,
  machine: machineText,
};

const batch: BatchBenchResult = {
  events: 100000,
  workers: 1,
  parallelism: 4,
  span_hours: 10,
  worker_peak_rss_mib: 300,
  files: 24,
  mib: 50,
  run1_s: 100,
  run1_steps: [
    { step: 'compact', ms: 10000 },
    { step: 'load', ms: 40000 },
  ],
  load_rows_per_s: 2500,
  run_rows_per_s: 1000,
  psql_copy_rows_per_s: 5000,
  ratio_load_to_psql: 0.5,
  hdfs_read_mib_per_s: 200,
  convert_rows_per_s: 90000,
  new_events: 1000,
  run2_s: 5,
  ratio_run2_to_run1: 0.05,
  run3_s: 2,
  ratio_run3_to_run1: 0.02,
  dbt_full_s: 60,
  dbt_incremental_s: 30,
  ratio_dbt_incremental_to_full: 0.5,
  dbt_tests: 42,
  run2_slowest_models: [{ name: 'fact_events', seconds: 2.5 }],
  compact_cpu: null,
  load_cpu: { seconds: 39.5, cores_busy: 1.9, cores: 2, cores_stolen: 0.05, watched_cores: 0.85 },
  machine: machineText,
};

const latency: LatencyBenchResult = {
  rate: 100,
  duration_s: 10,
  probes: 20,
  p50_ms: 200,
  p99_ms: 500,
  max_ms: 1500,
  baseline_ms: 10000,
  ratio_p99_to_baseline: 0.05,
  achieved_rate: 99,
  worker_rss_mib: 250,
  stage_p99_ms: { kafka: 25, queue: 50, cassandra: 250 },
  tail_stage: 'cassandra',
  machine: machineText,
};

const endpoint = (e: string, p95: number): EndpointResult => ({
  endpoint: e,
  requests: 10,
  p50_ms: p95 / 2,
  p95_ms: p95,
  p99_ms: p95,
  max_ms: p95,
  first_ms: p95 * 10,
  errors: 0,
});

const dashboard: DashboardBenchResult = {
  events: 5000,
  mart_events: 5000,
  clients: 4,
  requests_per_endpoint: 10,
  load_s: 3,
  dbt_build_s: 40,
  baseline_healthz_p95_ms: 5,
  baseline_cassandra_p95_ms: 20,
  served: [endpoint('/api/health', 100), endpoint('/api/lag', 10)],
  uncached: [endpoint('/api/health', 300), endpoint('/api/lag', 30)],
  worst_p95_ms: 100,
  worst_endpoint: '/api/health',
  worst_uncached_p95_ms: 300,
  worst_uncached_endpoint: '/api/health',
  ratio_worst_p95_to_cassandra_baseline: 5,
  dashboard_rss_mib: 120,
  machine: machineText,
};

const full: BenchReport = {
  command: './logpipe bench',
  quick: false,
  started_at: '2030-01-01T10:00:00.000Z',
  finished_at: '2030-01-01T10:20:30.000Z',
  machine,
  sizes: DEFAULT_SIZES,
  benches: {
    stream: { status: 'ok', seconds: 60, result: stream, notes: [] },
    batch: { status: 'ok', seconds: 300, result: batch, notes: [] },
    latency: { status: 'ok', seconds: 50, result: latency, notes: [] },
    dashboard: { status: 'ok', seconds: 600, result: dashboard, notes: [] },
  },
};

const quickWithFailure: BenchReport = {
  ...full,
  command: './logpipe bench --quick --batch-events 5000',
  quick: true,
  sizes: { ...QUICK_SIZES, batch: { events: 5000 } },
  benches: {
    ...full.benches,
    batch: {
      status: 'failed',
      seconds: 12,
      error: 'Error: run 1 loaded 4999 rows, expected 5000\n    at batchBench (bench/batch-bench.ts:1:1)',
      notes: ['stopped 1 logpipe process(es) the bench left running (pid 4242)'],
    },
  },
};

const row = (md: string, figure: string) => {
  const line = md.split('\n').find((l) => l.startsWith('|') && l.includes(`| ${figure} |`));
  assert.ok(line, `no table row for ${figure}`);
  return line;
};

describe('goals', () => {
  it('checks each comparison, and has no verdict without a number', () => {
    assert.equal(goalMet(GOALS.streamRatio, 0.8), true);
    assert.equal(goalMet(GOALS.streamRatio, 0.79), false);
    assert.equal(goalMet(GOALS.latencyP99, 500), true);
    assert.equal(goalMet(GOALS.latencyP99, 501), false);
    assert.equal(goalMet(GOALS.tombstones, 0), true);
    assert.equal(goalMet(GOALS.tombstones, 1), false);
    assert.equal(goalMet(GOALS.dashboardP95, 100), false);
    assert.equal(goalMet(GOALS.dashboardP95, 99.9), true);
    assert.equal(goalMet(GOALS.workerRss, undefined), undefined);
    assert.equal(goalMet(GOALS.workerRss, Number.NaN), undefined);
    assert.equal(goalLabel(GOALS.workerRss), 'worker RSS <= 300 MiB');
  });
});

describe('bench report', () => {
  const md = renderReport(full);

  it('names the date, the exact command, the sizes, the machine and the stack', () => {
    assert.match(md, /^# logpipe benchmarks\n/);
    assert.match(md, /- \*\*Date:\*\* 2030-01-01 10:00:00 UTC to 2030-01-01 10:20:30 UTC \(20\.5 min\)/);
    assert.match(md, /- \*\*Command:\*\* `\.\/logpipe bench`/);
    assert.ok(
      md.includes(
        '- **Machine:** 2 × Test CPU @ 1.00GHz, 7.8 GiB RAM; Debian GNU/Linux 12 (bookworm), Linux 6.1.0-test x86_64; Node 20.0.0-test, Java openjdk 17.0.0-test',
      ),
    );
    assert.ok(
      md.includes(
        '- **Stack:** Kafka 3.9.1, Cassandra 5.0.6, HDFS (Hadoop) 3.4.1, PostgreSQL 15.0 (debian package), Temporal CLI 1.5.1, dbt-core 1.10.15 with dbt-postgres 1.9.1',
      ),
    );
    assert.match(
      md,
      /- \*\*Sizes:\*\* stream 1,000,000 events; batch 1,000,000 events; latency 2,000 events\/s/,
    );
    assert.match(md, /- \*\*Load average at start:\*\* 0\.25, 0\.5, 1\n/);
    assert.doesNotMatch(md, /Quick run|Incomplete/);
  });

  it('gives each figure its value, baseline, ratio, goal and verdict', () => {
    assert.equal(
      row(md, 'worker throughput, Kafka to Cassandra and HDFS'),
      '| stream | worker throughput, Kafka to Cassandra and HDFS | 9,000 events/s | min(bare consumer 40,000, Cassandra only 10,000) events/s | 0.9 | ratio >= 0.8 | met |',
    );
    assert.match(
      md,
      /\| stream \| worker RSS, peak \| 350 MiB \| {2}\| {2}\| worker RSS <= 300 MiB \| \*\*not met\*\* \|/,
    );
    assert.match(
      row(md, 'load step'),
      /\| 2,500 rows\/s \| `psql \\copy` x4 5,000 rows\/s \| 0\.5 \| ratio >= 0\.8 \| \*\*not met\*\* \|$/,
    );
    assert.match(
      row(md, 'run 2, after 1% new events'),
      /\| run 1: 100 s \| 0\.05 \| ratio <= 0\.1 \| met \|$/,
    );
    assert.match(
      row(md, 'dbt, incremental after 1% new events'),
      /\| 0\.5 \| ratio <= 0\.15 \| \*\*not met\*\* \|$/,
    );
    assert.match(row(md, 'run 1, end to end'), /\| 100 s \(1,000 events\/s\) \| {2}\| {2}\| {2}\| {2}\|$/);
    assert.match(
      row(md, 'produce to readable in Cassandra, p99'),
      /\| 500 ms \(p50 200, max 1,500; tail: cassandra\) \| 10 s micro-batch trigger: 10,000 ms \| 0\.05 \| p99 <= 500 ms \| met \|$/,
    );
    assert.match(
      md,
      /\| latency \| worker RSS, peak \| 250 MiB \| {2}\| {2}\| worker RSS <= 300 MiB \| met \|/,
    );
    assert.match(
      row(md, 'worst endpoint p95, as served'),
      /\| 100 ms \(`\/api\/health`\) \| Cassandra driver, newest 100 rows: 20 ms \(`\/healthz`: 5 ms\) \| 5 \| worst p95 < 100 ms \| \*\*not met\*\* \|$/,
    );
    assert.match(md, /Goals met: 6 of 11, 5 not met\.\n/);
  });

  it("quotes each bench's own printout, without repeating the machine", () => {
    assert.match(md, /## stream: 60 s\n\n```text\nevents: {17}1000\n/);
    assert.match(md, /ratio a \/ min\(b, c\): {4}0\.9 \(goal >= 0\.8\)/);
    assert.match(md, /## batch: 5 min\n/);
    assert.match(md, / {2}load {20}40\.0 s/);
    assert.match(
      md,
      /CPU during load: {10}1\.9 of 2 cores busy, 0\.05 stolen by the hypervisor; batch workers 0\.85, everything else \(PostgreSQL, HDFS, \.\.\.\) 1\.05 \(over 39\.5 s\)\n/,
    );
    assert.match(md, /CPU during compact: {7}- \(step too short to sample\)\n/);
    assert.match(md, /## dashboard: 10 min\n/);
    assert.match(md, /\/api\/lag {41} {6}5 {6}10/);
    assert.ok(!md.includes(machineText), 'the per-bench machine line is left out');
  });

  it('records a failed bench with its error and goes on with the others', () => {
    const q = renderReport(quickWithFailure);
    assert.match(q, /> \*\*Quick run\*\* \(`--quick`\)/);
    assert.match(q, /- \*\*Command:\*\* `\.\/logpipe bench --quick --batch-events 5000`/);
    assert.match(q, /- \*\*Sizes:\*\* stream 20,000 events; batch 5,000 events;.* \(quick\)\n/);
    assert.match(q, /## batch: failed after 12 s\n\n```text\nError: run 1 loaded 4999 rows, expected 5000\n/);
    assert.match(q, /- stopped 1 logpipe process\(es\) the bench left running \(pid 4242\)/);
    assert.match(
      row(q, 'load step'),
      /^\| batch \| load step \| failed \| {2}\| {2}\| ratio >= 0\.8 \| not measured \|$/,
    );
    assert.ok(!q.includes('run 1, end to end'), 'no context rows for a failed bench');
    assert.match(row(q, 'produce to readable in Cassandra, p99'), /\| met \|$/);
    assert.match(q, /Goals met: 4 of 11, 3 not met, 4 not measured\. Failed: batch\.\n/);
  });

  it('marks a report written mid-run as incomplete', () => {
    const running: BenchReport = {
      ...full,
      finished_at: undefined,
      benches: { ...full.benches, latency: { status: 'pending' }, dashboard: { status: 'pending' } },
    };
    const r = renderReport(running);
    assert.match(
      r,
      /> \*\*Incomplete\*\*: written while the run was going; not run yet: latency, dashboard\./,
    );
    assert.match(r, /still running when this was written/);
    assert.match(r, /## dashboard: not run\n/);
    assert.match(row(r, 'worst endpoint p95, as served'), /\| not run \|.*\| not measured \|$/);
  });

  it('lists the same figures as rows for report.json', () => {
    const rows = reportRows(full);
    assert.deepEqual(
      rows.filter((r) => r.goal).map((r) => [r.bench, r.met]),
      [
        ['stream', 'met'],
        ['stream', 'not met'],
        ['stream', 'not met'],
        ['stream', 'met'],
        ['batch', 'not met'],
        ['batch', 'met'],
        ['batch', 'met'],
        ['batch', 'not met'],
        ['latency', 'met'],
        ['latency', 'met'],
        ['dashboard', 'not met'],
      ],
    );
  });
});

describe('bench scaling printout', () => {
  it("takes run 2's slowest dbt models from the workflow's result, slowest first", () => {
    const result = {
      dbt: {
        models: [
          { name: 'fact_events', status: 'success', seconds: 1.2345 },
          { name: 'revenue_daily', status: 'success', seconds: 7.77 },
          { name: 'dim_date', status: 'success', seconds: 0.1 },
          { name: 'fact_orders', status: 'success', seconds: 2 },
        ],
      },
    } as unknown as HdfsToWarehouseResult;
    assert.deepEqual(slowestModels(result, 3), [
      { name: 'revenue_daily', seconds: 7.77 },
      { name: 'fact_orders', seconds: 2 },
      { name: 'fact_events', seconds: 1.23 },
    ]);
    assert.deepEqual(slowestModels({ dbt: null } as unknown as HdfsToWarehouseResult), []);
  });

  it('shows both warehouse sizes with the same new events, the ratio and its goal', () => {
    const side = (events: number, run2: number) => ({
      events,
      run1_s: events / 10_000,
      run2_s: run2,
      run3_s: 0.4,
      dbt_incremental_s: run2 - 3,
      worker_peak_rss_mib: 300,
      run2_slowest_models: [
        { name: 'revenue_daily', seconds: run2 / 4 },
        { name: 'fact_orders', seconds: 1.5 },
      ],
    });
    const lines = scalingBenchLines({
      new_events: 10_000,
      small: side(1_000_000, 20),
      large: side(5_000_000, 25),
      ratio_run2_large_to_small: 1.25,
      ratio_dbt_incremental_large_to_small: 1.294,
      machine: machineText,
    });
    assert.match(lines[0] ?? '', /1000000 events: run 1 100 s, run 2 \(10000 new\) 20 s/);
    assert.match(lines[1] ?? '', /5000000 events: run 1 500 s, run 2 \(10000 new\) 25 s/);
    assert.equal(lines[2], "run 2's slowest models, small: revenue_daily 5 s, fact_orders 1.5 s");
    assert.equal(lines[3], "run 2's slowest models, large: revenue_daily 6.25 s, fact_orders 1.5 s");
    assert.equal(lines[4], 'run 2 large / small:    1.25 (goal <= 1.2)');
    assert.equal(goalMet(GOALS.scalingRun2Ratio, 1.25), false);
    assert.equal(goalMet(GOALS.scalingRun2Ratio, 1.1), true);
    assert.equal(lines.at(-1), `machine:                ${machineText}`);
  });
});
