// bench/REPORT.md from the results of `logpipe bench` (every benchmark in sequence) and the machine
// it ran on. Pure: no clock, no I/O; bench/all.ts collects the data and writes the files.
import type { BatchBenchResult } from './batch-bench.ts';
import type { DashboardBenchResult } from './dashboard-bench.ts';
import { GOALS, type Goal, goalLabel, goalMet } from './goals.ts';
import type { LatencyBenchResult } from './latency-bench.ts';
import { batchBenchLines, dashboardBenchLines, latencyBenchLines, streamBenchLines } from './lines.ts';
import type { BenchSizes } from './sizes.ts';
import type { StreamBenchResult } from './stream-bench.ts';

export type BenchName = 'stream' | 'batch' | 'latency' | 'dashboard';
/** The order `logpipe bench` runs them in. */
export const BENCH_NAMES: readonly BenchName[] = ['stream', 'batch', 'latency', 'dashboard'];

export interface BenchResults {
  stream: StreamBenchResult;
  batch: BatchBenchResult;
  latency: LatencyBenchResult;
  dashboard: DashboardBenchResult;
}

/** notes: what else happened during the bench (stray errors, processes it left running). */
export type BenchOutcome<T> =
  | { status: 'ok'; seconds: number; result: T; notes: string[] }
  | { status: 'failed'; seconds: number; error: string; notes: string[] }
  | { status: 'pending' };

export interface MachineInfo {
  cpu_model: string;
  cores: number;
  ram_gib: number;
  /** e.g. "Debian GNU/Linux 12 (bookworm)". */
  os: string;
  /** e.g. "Linux 6.1.0-18-amd64 x86_64". */
  kernel: string;
  node: string;
  java: string;
  /** 1, 5 and 15 minutes, when the run started: other work on the machine skews every figure. */
  load_average: number[];
  /** As the local stack pins them (stack/*.ts, lib/dbt.ts). */
  stack: {
    kafka: string;
    cassandra: string;
    hdfs: string;
    postgresql: string;
    temporal_cli: string;
    dbt_core: string;
    dbt_postgres: string;
  };
}

export interface BenchReport {
  /** As typed, e.g. "./logpipe bench --quick". */
  command: string;
  quick: boolean;
  /** ISO 8601. */
  started_at: string;
  /** ISO 8601; absent while the run is still going (the report is rewritten after each bench). */
  finished_at?: string;
  machine: MachineInfo;
  sizes: BenchSizes;
  benches: { [K in BenchName]: BenchOutcome<BenchResults[K]> };
}

export type Verdict = 'met' | 'not met' | 'not measured' | '';

/** One line of the summary table; `goal`/`met` empty for a figure shown for context only. */
export interface ReportRow {
  bench: BenchName;
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  goal: string;
  met: Verdict;
}

/** 1234567 → "1,234,567"; fractions as they are. */
export function num(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : String(n);
}

interface Figure {
  figure: string;
  value?: string;
  baseline?: string;
  ratio?: number;
  /** The goal, and the measured number it is checked against (a ratio or the value itself). */
  goal?: Goal;
  measured?: number;
}

/** The figures of each bench; r undefined (failed or not run): only those with a goal, unmeasured. */
const FIGURES: { [K in BenchName]: (r: BenchResults[K] | undefined) => Figure[] } = {
  stream: (r) => [
    {
      figure: 'worker throughput, Kafka to Cassandra and HDFS',
      value: r && `${num(r.worker_eps)} events/s`,
      baseline:
        r && `min(bare consumer ${num(r.consume_eps)}, Cassandra only ${num(r.cassandra_eps)}) events/s`,
      ratio: r?.ratio,
      goal: GOALS.streamRatio,
      measured: r?.ratio,
    },
    {
      figure: 'worker RSS, peak',
      value: r && `${num(r.worker_rss_mib)} MiB`,
      goal: GOALS.workerRss,
      measured: r?.worker_rss_mib,
    },
    {
      figure: 'worker CPU per event (its own process)',
      value: r && `${r.worker_cpu_us_per_event} µs`,
      baseline:
        r &&
        `CPU s while draining: ${Object.entries(r.cpu_s)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      goal: GOALS.workerCpu,
      measured: r?.worker_cpu_us_per_event,
    },
    {
      figure: 'tombstone cells, busiest hour partition',
      value: r && `${num(r.tombstones)} (${num(r.tombstone_check_rows)} rows read)`,
      goal: GOALS.tombstones,
      measured: r?.tombstones,
    },
  ],
  batch: (r) => [
    ...(r
      ? [
          {
            figure: 'run 1, end to end',
            value: `${num(r.run1_s)} s (${num(r.run_rows_per_s)} events/s)`,
          },
        ]
      : []),
    {
      figure: 'load step',
      value: r && `${num(r.load_rows_per_s)} rows/s`,
      baseline: r && `\`psql \\copy\` x${r.parallelism} ${num(r.psql_copy_rows_per_s)} rows/s`,
      ratio: r?.ratio_load_to_psql,
      goal: GOALS.batchLoadRatio,
      measured: r?.ratio_load_to_psql,
    },
    {
      figure: 'run 2, after 1% new events',
      value: r && `${num(r.run2_s)} s (${num(r.new_events)} new events)`,
      baseline: r && `run 1: ${num(r.run1_s)} s`,
      ratio: r?.ratio_run2_to_run1,
      goal: GOALS.batchRun2Ratio,
      measured: r?.ratio_run2_to_run1,
    },
    {
      figure: 'run 3, nothing new',
      value: r && `${num(r.run3_s)} s`,
      baseline: r && `run 1: ${num(r.run1_s)} s`,
      ratio: r?.ratio_run3_to_run1,
      goal: GOALS.batchRun3Ratio,
      measured: r?.ratio_run3_to_run1,
    },
    {
      figure: 'dbt, incremental after 1% new events',
      value: r && `${num(r.dbt_incremental_s)} s`,
      baseline: r && `first build: ${num(r.dbt_full_s)} s`,
      ratio: r?.ratio_dbt_incremental_to_full,
      goal: GOALS.batchDbtRatio,
      measured: r?.ratio_dbt_incremental_to_full,
    },
  ],
  latency: (r) => [
    {
      figure: 'produce to readable in Cassandra, p99',
      value:
        r && `${num(r.p99_ms)} ms (p50 ${num(r.p50_ms)}, max ${num(r.max_ms)}; tail: ${r.tail_stage ?? '?'})`,
      baseline: r && `10 s micro-batch trigger: ${num(r.baseline_ms)} ms`,
      ratio: r?.ratio_p99_to_baseline,
      goal: GOALS.latencyP99,
      measured: r?.p99_ms,
    },
    {
      figure: 'worker RSS, peak',
      value: r && `${num(r.worker_rss_mib)} MiB`,
      goal: GOALS.workerRss,
      measured: r?.worker_rss_mib,
    },
  ],
  dashboard: (r) => [
    {
      figure: 'worst endpoint p95, as served',
      value: r && `${num(r.worst_p95_ms)} ms (\`${r.worst_endpoint}\`)`,
      baseline:
        r &&
        `Cassandra driver, newest 100 rows: ${num(r.baseline_cassandra_p95_ms)} ms (\`/healthz\`: ${num(r.baseline_healthz_p95_ms)} ms)`,
      ratio: r?.ratio_worst_p95_to_cassandra_baseline,
      goal: GOALS.dashboardP95,
      measured: r?.worst_p95_ms,
    },
    ...(r
      ? [
          {
            figure: 'worst endpoint p95, response cache off',
            value: `${num(r.worst_uncached_p95_ms)} ms (\`${r.worst_uncached_endpoint}\`)`,
          },
          { figure: 'dashboard RSS', value: `${num(r.dashboard_rss_mib)} MiB` },
        ]
      : []),
  ],
};

function rowsOf<K extends BenchName>(bench: K, outcome: BenchOutcome<BenchResults[K]>): ReportRow[] {
  const result = outcome.status === 'ok' ? outcome.result : undefined;
  const missing = outcome.status === 'failed' ? 'failed' : 'not run';
  return FIGURES[bench](result).map((f) => {
    const verdict = f.goal ? goalMet(f.goal, f.measured) : undefined;
    return {
      bench,
      figure: f.figure,
      value: f.value ?? (result ? '' : missing),
      baseline: f.baseline ?? '',
      ratio: f.ratio === undefined ? '' : num(f.ratio),
      goal: f.goal ? goalLabel(f.goal) : '',
      met: !f.goal ? '' : verdict === undefined ? 'not measured' : verdict ? 'met' : 'not met',
    };
  });
}

/** Every figure of every bench, in run order, with its goal checked. */
export function reportRows(report: BenchReport): ReportRow[] {
  return BENCH_NAMES.flatMap((b) => rowsOf(b, report.benches[b]));
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

/** A fenced block that its content cannot close. */
function fenced(lines: string[]): string[] {
  const longest = Math.max(
    2,
    ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))),
  );
  const fence = '`'.repeat(longest + 1);
  return [`${fence}text`, ...lines, fence];
}

/** "2026-01-02T10:00:00.000Z" → "2026-01-02 10:00:00 UTC". */
function when(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

function duration(seconds: number): string {
  return seconds < 120 ? `${num(Math.round(seconds))} s` : `${num(Math.round(seconds / 6) / 10)} min`;
}

export function machineLine(m: MachineInfo): string {
  return `${m.cores} × ${m.cpu_model}, ${num(m.ram_gib)} GiB RAM; ${m.os}, ${m.kernel}; Node ${m.node}, Java ${m.java}`;
}

export function stackLine(m: MachineInfo): string {
  const s = m.stack;
  return `Kafka ${s.kafka}, Cassandra ${s.cassandra}, HDFS (Hadoop) ${s.hdfs}, PostgreSQL ${s.postgresql}, Temporal CLI ${s.temporal_cli}, dbt-core ${s.dbt_core} with dbt-postgres ${s.dbt_postgres}`;
}

export function sizesLine(s: BenchSizes): string {
  const d = s.dashboard;
  return [
    `stream ${num(s.stream.events)} events`,
    `batch ${num(s.batch.events)} events`,
    `latency ${num(s.latency.rate)} events/s for ${num(s.latency.durationS)} s`,
    `dashboard ${num(d.events)} events (marts from ${d.martEvents === undefined ? 'all' : num(d.martEvents)}), ${num(d.clients)} clients, ${num(d.requests)} requests per endpoint`,
  ].join('; ');
}

const DETAIL_LINES: { [K in BenchName]: (r: BenchResults[K]) => string[] } = {
  stream: (r) => streamBenchLines(r, { machine: false }),
  batch: (r) => batchBenchLines(r, { machine: false }),
  latency: (r) => latencyBenchLines(r, { machine: false }),
  dashboard: (r) => dashboardBenchLines(r, { machine: false }),
};

function section<K extends BenchName>(bench: K, outcome: BenchOutcome<BenchResults[K]>): string[] {
  if (outcome.status === 'pending') return [`## ${bench}: not run`, ''];
  const notes = outcome.notes.length ? ['', ...outcome.notes.map((n) => `- ${n}`)] : [];
  if (outcome.status === 'failed')
    return [
      `## ${bench}: failed after ${duration(outcome.seconds)}`,
      '',
      ...fenced(outcome.error.trimEnd().split('\n')),
      ...notes,
      '',
    ];
  return [
    `## ${bench}: ${duration(outcome.seconds)}`,
    '',
    ...fenced(DETAIL_LINES[bench](outcome.result)),
    ...notes,
    '',
  ];
}

/** The whole of bench/REPORT.md. */
export function renderReport(report: BenchReport): string {
  const rows = reportRows(report);
  const goals = rows.filter((r) => r.goal);
  const count = (v: Verdict) => goals.filter((r) => r.met === v).length;
  const outcomes = BENCH_NAMES.map((b) => [b, report.benches[b].status] as const);
  const failed = outcomes.filter(([, s]) => s === 'failed').map(([b]) => b);
  const pending = outcomes.filter(([, s]) => s === 'pending').map(([b]) => b);
  const m = report.machine;
  const took =
    report.finished_at === undefined
      ? 'still running when this was written'
      : `to ${when(report.finished_at)} (${duration((Date.parse(report.finished_at) - Date.parse(report.started_at)) / 1000)})`;
  return [
    '# logpipe benchmarks',
    '',
    ...(report.quick
      ? [
          '> **Quick run** (`--quick`): smaller sizes than the defaults, so fixed costs (process starts,',
          '> dbt, first requests) weigh more. These figures are not comparable with a full run.',
          '',
        ]
      : []),
    ...(report.finished_at === undefined
      ? [`> **Incomplete**: written while the run was going; not run yet: ${pending.join(', ')}.`, '']
      : []),
    `- **Date:** ${when(report.started_at)} ${took}`,
    `- **Command:** \`${report.command}\``,
    `- **Sizes:** ${sizesLine(report.sizes)}${report.quick ? ' (quick)' : ''}`,
    `- **Machine:** ${machineLine(m)}`,
    `- **Stack:** ${stackLine(m)}`,
    `- **Load average at start:** ${m.load_average.map(num).join(', ')}`,
    '',
    '## Summary',
    '',
    [
      `Goals met: ${count('met')} of ${goals.length}`,
      count('not met') ? `, ${count('not met')} not met` : '',
      count('not measured') ? `, ${count('not measured')} not measured` : '',
      '.',
      failed.length ? ` Failed: ${failed.join(', ')}.` : '',
    ].join(''),
    '',
    ...table(
      ['bench', 'figure', 'value', 'baseline (same run)', 'ratio', 'goal', 'met'],
      rows.map((r) => [
        r.bench,
        r.figure,
        r.value,
        r.baseline,
        r.ratio,
        r.goal,
        r.met === 'not met' ? '**not met**' : r.met,
      ]),
    ),
    '',
    ...BENCH_NAMES.flatMap((b) => section(b, report.benches[b])),
  ]
    .join('\n')
    .replace(/\n+$/, '\n');
}
