// What each benchmark prints: the lines of `logpipe bench stream|batch|latency|dashboard`, also
// quoted in bench/REPORT.md. Pure: results in, lines out (types only from the bench modules).
import type { BatchBenchResult, SlowModel } from './batch-bench.ts';
import type { CpuWindow } from './cpu-window.ts';
import type { DashboardBenchResult, EndpointResult } from './dashboard-bench.ts';
import { GOALS, goalText } from './goals.ts';
import type { LatencyBenchResult } from './latency-bench.ts';
import type { ScalingBenchResult } from './scaling-bench.ts';
import type { StreamBenchResult } from './stream-bench.ts';

/** machine: false leaves out the machine line (the report names the machine once, at the top). */
export interface LinesOptions {
  machine?: boolean;
}

const machineLine = (label: string, r: { machine: string }, opts: LinesOptions) =>
  opts.machine === false ? [] : [`${label}${r.machine}`];

export function streamBenchLines(r: StreamBenchResult, opts: LinesOptions = {}): string[] {
  return [
    `events:                 ${r.events}`,
    `(a) worker, both sinks: ${r.worker_eps} events/s`,
    `(b) bare consumer:      ${r.consume_eps} events/s`,
    `(c) Cassandra only:     ${r.cassandra_eps} events/s (the worker's sink, concurrency ${r.cassandra_concurrency})`,
    ...(r.cassandra_retries
      ? [
          `Cassandra writes retried: worker ${r.cassandra_retries.worker}, baseline ${r.cassandra_retries.baseline} (timeouts of an overloaded node)`,
        ]
      : []),
    `ratio a / min(b, c):    ${r.ratio} (goal ${goalText(GOALS.streamRatio)})`,
    `worker RSS:             ${r.worker_rss_mib} MiB (goal ${goalText(GOALS.workerRss)}; peaks: V8 heap ${r.worker_heap_mib}, Buffers ${r.worker_external_mib})`,
    `worker CPU per event:   ${r.worker_cpu_us_per_event} µs (goal ${goalText(GOALS.workerCpu)})`,
    `CPU while draining:     ${Object.entries(r.cpu_s)
      .map(([k, v]) => `${k} ${v} s`)
      .join(', ')}`,
    `tombstones, busiest hour: ${r.tombstones} over ${r.tombstone_check_rows} rows (goal ${goalText(GOALS.tombstones)})`,
    ...machineLine('machine:                ', r, opts),
  ];
}

export function batchBenchLines(r: BatchBenchResult, opts: LinesOptions = {}): string[] {
  return [
    `events:                   ${r.events} in ${r.files} raw files (${r.mib} MiB)`,
    `batch workers:            ${r.workers}, ${r.parallelism} activities at once; peak RSS ${r.worker_peak_rss_mib} MiB`,
    `hours of events:          ${r.span_hours} (about ${Math.round(r.events / r.span_hours)} events in the largest)`,
    `run 1, end to end:        ${r.run1_s} s (${r.run_rows_per_s} events/s)`,
    ...r.run1_steps.map((s) => `  ${s.step.padEnd(22)}  ${(s.ms / 1000).toFixed(1)} s`),
    `(a) load step:            ${r.load_rows_per_s} rows/s`,
    `(b) psql \\copy baseline:  ${r.psql_copy_rows_per_s} rows/s (${r.parallelism} copies at once)`,
    `ratio a / b:              ${r.ratio_load_to_psql} (goal ${goalText(GOALS.batchLoadRatio)})`,
    `HDFS read alone:          ${r.hdfs_read_mib_per_s} MiB/s`,
    `conversion alone:         ${r.convert_rows_per_s} rows/s (one core)`,
    `CPU during compact:       ${cpuText(r.compact_cpu)}`,
    `CPU during load:          ${cpuText(r.load_cpu)}`,
    `run 2, ${r.new_events} new events: ${r.run2_s} s; run 2 / run 1 = ${r.ratio_run2_to_run1} (goal ${goalText(GOALS.batchRun2Ratio)})`,
    `run 3, nothing new:       ${r.run3_s} s; run 3 / run 1 = ${r.ratio_run3_to_run1} (goal ${goalText(GOALS.batchRun3Ratio)})`,
    `dbt, first build:         ${r.dbt_full_s} s`,
    `dbt, incremental (1%):    ${r.dbt_incremental_s} s; incremental / full = ${r.ratio_dbt_incremental_to_full} (goal ${goalText(GOALS.batchDbtRatio)})`,
    `dbt tests per run:        ${r.dbt_tests}`,
    `run 2's slowest models:   ${slowText(r.run2_slowest_models)}`,
    ...machineLine('machine:                  ', r, opts),
  ];
}

const cpuText = (w: CpuWindow | null | undefined) =>
  w
    ? `${w.cores_busy} of ${w.cores} cores busy, ${w.cores_stolen} stolen by the hypervisor; batch workers ${w.watched_cores}, everything else (PostgreSQL, HDFS, ...) ${Math.round((w.cores_busy - w.watched_cores) * 100) / 100} (over ${w.seconds} s)`
    : '- (step too short to sample)';

const slowText = (models: SlowModel[] | undefined) =>
  models?.length ? models.map((m) => `${m.name} ${m.seconds} s`).join(', ') : '-';

export function scalingBenchLines(r: ScalingBenchResult, opts: LinesOptions = {}): string[] {
  const row = (label: string, x: ScalingBenchResult['small']) =>
    `${label}${String(x.events).padStart(9)} events: run 1 ${x.run1_s} s, run 2 (${r.new_events} new) ${x.run2_s} s, dbt ${x.dbt_incremental_s} s, run 3 ${x.run3_s} s; peak RSS ${x.worker_peak_rss_mib} MiB`;
  return [
    row('small warehouse: ', r.small),
    row('large warehouse: ', r.large),
    `run 2's slowest models, small: ${slowText(r.small.run2_slowest_models)}`,
    `run 2's slowest models, large: ${slowText(r.large.run2_slowest_models)}`,
    `run 2 large / small:    ${r.ratio_run2_large_to_small} (goal ${goalText(GOALS.scalingRun2Ratio)})`,
    `dbt incremental l / s:  ${r.ratio_dbt_incremental_large_to_small}`,
    ...machineLine('machine:                ', r, opts),
  ];
}

export function latencyBenchLines(r: LatencyBenchResult, opts: LinesOptions = {}): string[] {
  return [
    `rate:       ${r.rate} events/s asked, ${r.achieved_rate} achieved, for ${r.duration_s} s after ${r.warm_up_s ?? 0} s of warm-up (cold start: slowest probe ${r.cold_start_max_ms ?? '?'} ms)`,
    `probes:     ${r.probes}`,
    `p50:        ${r.p50_ms} ms`,
    `p99:        ${r.p99_ms} ms (goal ${goalText(GOALS.latencyP99)})`,
    `max:        ${r.max_ms} ms`,
    `tail:       ${r.tail_stage} (worker stages, p99 by histogram bucket: ${Object.entries(
      r.stage_p99_ms ?? {},
    )
      .map(([k, v]) => `${k} <= ${v} ms`)
      .join(', ')}; the reader polls every 10 ms)`,
    `tail split: the slowest 1% waited ${r.tail_split_ms?.before_write_ms ?? '?'} ms (median) until the worker wrote them, ${r.tail_split_ms?.after_write_ms ?? '?'} ms from the write to readable`,
    `baseline:   ${r.baseline_ms} ms (the original's 10 s micro-batch trigger); p99 / baseline = ${r.ratio_p99_to_baseline}`,
    `worker RSS: ${r.worker_rss_mib} MiB (goal ${goalText(GOALS.workerRss)})`,
    `CPU:        ${
      r.cpu
        ? `${r.cpu.cores_busy} of ${r.cpu.cores} cores busy, ${r.cpu.cores_stolen} stolen by the hypervisor; the worker ${r.cpu.watched_cores} (over the ${r.cpu.seconds} s measured)`
        : '-'
    }`,
    ...machineLine('machine:    ', r, opts),
  ];
}

export function dashboardBenchLines(r: DashboardBenchResult, opts: LinesOptions = {}): string[] {
  const row = (s: EndpointResult, u: EndpointResult | undefined) =>
    `${s.endpoint.padEnd(48)} ${String(s.p50_ms).padStart(7)} ${String(s.p95_ms).padStart(7)}   ${String(u?.p50_ms ?? '-').padStart(7)} ${String(u?.p95_ms ?? '-').padStart(7)}   ${String(s.first_ms).padStart(8)}`;
  return [
    `events in Cassandra:  ${r.events} over 24 h (marts from ${r.mart_events}; load ${r.load_s} s, dbt build ${r.dbt_build_s} s)`,
    `clients:              ${r.clients} concurrent on loopback, ${r.requests_per_endpoint} requests per endpoint`,
    `baselines (p95):      /healthz ${r.baseline_healthz_p95_ms} ms; Cassandra driver, newest 100 rows: ${r.baseline_cassandra_p95_ms} ms`,
    '',
    `${'endpoint'.padEnd(48)} ${'p50'.padStart(7)} ${'p95'.padStart(7)}   ${'p50 nc'.padStart(7)} ${'p95 nc'.padStart(7)}   ${'first'.padStart(8)}  (ms; nc = response cache off)`,
    ...r.served.map((s) =>
      row(
        s,
        r.uncached.find((u) => u.endpoint === s.endpoint),
      ),
    ),
    '',
    `worst p95 as served:  ${r.worst_p95_ms} ms (${r.worst_endpoint}); goal ${goalText(GOALS.dashboardP95)}`,
    `worst p95 uncached:   ${r.worst_uncached_p95_ms} ms (${r.worst_uncached_endpoint})`,
    `ratio worst p95 / Cassandra baseline p95: ${r.ratio_worst_p95_to_cassandra_baseline}`,
    `dashboard RSS:        ${r.dashboard_rss_mib} MiB`,
    ...machineLine('machine:              ', r, opts),
  ];
}
