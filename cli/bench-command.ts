// `logpipe bench …`: benchmarks that print each figure beside a baseline measured in the same run;
// `logpipe bench` alone (or `bench all`) runs every one of them and writes bench/REPORT.md.
import { relative } from 'node:path';
import type { Command } from 'commander';
import { batchBench } from '../bench/batch-bench.ts';
import { latencyBench } from '../bench/latency-bench.ts';
import {
  batchBenchLines,
  dashboardBenchLines,
  latencyBenchLines,
  scalingBenchLines,
  streamBenchLines,
} from '../bench/lines.ts';
import { quietly } from '../bench/quiet.ts';
import { scalingBench } from '../bench/scaling-bench.ts';
import { type BenchSizes, DEFAULT_SIZES, MIN_BATCH_EVENTS, QUICK_SIZES } from '../bench/sizes.ts';
import { streamBench } from '../bench/stream-bench.ts';
import { loadConfig } from '../lib/config.ts';

function emit(result: object, json: boolean | undefined, lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Parsers for commander: a whole number of at least `min`, or any positive number. */
function whole(flag: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${flag} expects a whole number of at least ${min} (got ${JSON.stringify(value)})`);
    return n;
  };
}

function positive(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new Error(`${flag} expects a positive number (got ${JSON.stringify(value)})`);
    return n;
  };
}

/** The command line as typed, for the report: ./logpipe and the arguments, quoted where needed. */
function commandLine(): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);
  return ['./logpipe', ...process.argv.slice(2).map(quote)].join(' ');
}

interface AllOptions {
  quick?: boolean;
  streamEvents?: number;
  batchEvents?: number;
  latencyRate?: number;
  latencyDuration?: number;
  dashboardEvents?: number;
  dashboardMartEvents?: number;
  dashboardClients?: number;
  dashboardRequests?: number;
  json?: boolean;
}

/** The sizes of `bench all`: each option given, else the quick or the default size. */
function allSizes(o: AllOptions): BenchSizes {
  const base = o.quick ? QUICK_SIZES : DEFAULT_SIZES;
  return {
    stream: { events: o.streamEvents ?? base.stream.events },
    batch: { events: o.batchEvents ?? base.batch.events },
    latency: {
      rate: o.latencyRate ?? base.latency.rate,
      durationS: o.latencyDuration ?? base.latency.durationS,
    },
    dashboard: {
      events: o.dashboardEvents ?? base.dashboard.events,
      martEvents: o.dashboardMartEvents ?? base.dashboard.martEvents,
      clients: o.dashboardClients ?? base.dashboard.clients,
      requests: o.dashboardRequests ?? base.dashboard.requests,
    },
  };
}

/** "(default 200000; --quick 20000)" */
const sizeHelp = (pick: (s: BenchSizes) => number | undefined, none = 'all') => {
  const text = (s: BenchSizes) => String(pick(s) ?? none);
  return `(default ${text(DEFAULT_SIZES)}; --quick ${text(QUICK_SIZES)})`;
};

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description(
      'benchmarks, each with a baseline measured in the same run; with no command: all of them, writing bench/REPORT.md',
    )
    .addHelpText(
      'after',
      '\nWith no command, `logpipe bench` runs `bench all`; its options: `logpipe bench all --help`.',
    );
  bench
    .command('all', { isDefault: true })
    .description(
      'every benchmark in sequence (stream, batch, latency, dashboard); writes bench/REPORT.md and bench/report.json',
    )
    .option('--quick', 'smaller sizes: the whole sequence in a few minutes (the report says so)')
    .option(
      '--stream-events <n>',
      `bench stream: events in the topic ${sizeHelp((s) => s.stream.events)}`,
      whole('--stream-events'),
    )
    .option(
      '--batch-events <n>',
      `bench batch: events in raw HDFS files ${sizeHelp((s) => s.batch.events)}`,
      whole('--batch-events', MIN_BATCH_EVENTS),
    )
    .option(
      '--latency-rate <r>',
      `bench latency: events per second ${sizeHelp((s) => s.latency.rate)}`,
      positive('--latency-rate'),
    )
    .option(
      '--latency-duration <s>',
      `bench latency: seconds of producing ${sizeHelp((s) => s.latency.durationS)}`,
      positive('--latency-duration'),
    )
    .option(
      '--dashboard-events <n>',
      `bench dashboard: events in Cassandra ${sizeHelp((s) => s.dashboard.events)}`,
      positive('--dashboard-events'),
    )
    .option(
      '--dashboard-mart-events <n>',
      `bench dashboard: of which built into the marts ${sizeHelp((s) => s.dashboard.martEvents)}`,
      positive('--dashboard-mart-events'),
    )
    .option(
      '--dashboard-clients <n>',
      `bench dashboard: concurrent clients ${sizeHelp((s) => s.dashboard.clients)}`,
      positive('--dashboard-clients'),
    )
    .option(
      '--dashboard-requests <n>',
      `bench dashboard: requests per endpoint ${sizeHelp((s) => s.dashboard.requests)}`,
      positive('--dashboard-requests'),
    )
    .option('--json', 'last line: the report as one JSON object')
    .action(async (opts: AllOptions) => {
      const { REPORT_DIR, reportJson, runAllBenches } = await import('../bench/all.ts');
      const report = await quietly(loadConfig(), () =>
        runAllBenches({ sizes: allSizes(opts), quick: Boolean(opts.quick), command: commandLine() }),
      );
      const json = reportJson(report);
      const rows = json.figures.filter((r) => r.goal);
      const failed = Object.entries(report.benches).filter(([, o]) => o.status === 'failed');
      const dir = relative(process.cwd(), REPORT_DIR) || '.';
      process.stdout.write(
        [
          '',
          `== goals${report.quick ? ' (quick run)' : ''}`,
          ...rows.map((r) => `${`${r.bench}: ${r.figure}`.padEnd(52)} ${r.goal.padEnd(22)} ${r.met}`),
          ...failed.map(([b]) => `bench ${b} failed (its error is in the report)`),
          `report: ${dir}/REPORT.md, raw results: ${dir}/report.json`,
          '',
        ].join('\n'),
      );
      if (opts.json) process.stdout.write(`${JSON.stringify(json)}\n`);
      if (failed.length) process.exitCode = 1;
      // A failed bench may leave a client connected; the report is written, so do not wait for it.
      process.exit();
    });
  bench
    .command('stream')
    .description('worker throughput vs a bare consumer and Cassandra alone (ratio = a / min(b, c))')
    .option('--events <n>', 'events in the topic', String(DEFAULT_SIZES.stream.events))
    .option('--json', 'last line: one JSON object')
    .action(async (opts: { events: string; json?: boolean }) => {
      const r = await quietly(loadConfig(), () => streamBench(whole('--events')(opts.events)));
      emit(r, opts.json, streamBenchLines(r));
    });
  bench
    .command('batch')
    .description('the batch workflow on N events in HDFS vs psql \\copy of the same rows; then 1% new data')
    .option('--events <n>', 'events in raw HDFS files', String(DEFAULT_SIZES.batch.events))
    .option('--workers <n>', 'batch worker processes sharing the runs', '1')
    .option('--span-hours <n>', 'hours the events span (1: one hour of N events)', '10')
    .option('--keep', "keep the bench's warehouse schemas afterwards, to inspect its plans and marts")
    .option('--json', 'last line: one JSON object')
    .action(
      async (opts: {
        events: string;
        workers: string;
        spanHours: string;
        keep?: boolean;
        json?: boolean;
      }) => {
        const n = whole('--events', MIN_BATCH_EVENTS)(opts.events);
        const workers = whole('--workers')(opts.workers);
        const spanHours = whole('--span-hours')(opts.spanHours);
        const r = await quietly(loadConfig(), () => batchBench(n, workers, spanHours, opts.keep === true));
        emit(r, opts.json, batchBenchLines(r));
      },
    );
  bench
    .command('scaling')
    .description(
      'bench batch on N and on factor x N events, the same new events before each run 2: does a run cost what is new?',
    )
    .option('--events <n>', 'events of the small warehouse', '1000000')
    .option('--factor <n>', 'the large warehouse holds factor x events', '5')
    .option('--new-events <n>', 'new events before run 2, the same on both', '10000')
    .option('--json', 'last line: one JSON object')
    .action(async (opts: { events: string; factor: string; newEvents: string; json?: boolean }) => {
      const n = whole('--events', MIN_BATCH_EVENTS)(opts.events);
      const factor = whole('--factor')(opts.factor);
      const newEvents = whole('--new-events')(opts.newEvents);
      const r = await quietly(loadConfig(), () => scalingBench(n, factor, newEvents));
      emit(r, opts.json, scalingBenchLines(r));
    });
  bench
    .command('latency')
    .description('produce-to-readable latency in Cassandra at a steady rate')
    .option('--rate <r>', 'events per second', String(DEFAULT_SIZES.latency.rate))
    .option('--duration <s>', 'seconds of producing', String(DEFAULT_SIZES.latency.durationS))
    .option('--json', 'last line: one JSON object')
    .action(async (opts: { rate: string; duration: string; json?: boolean }) => {
      const r = await quietly(loadConfig(), () =>
        latencyBench(positive('--rate')(opts.rate), positive('--duration')(opts.duration)),
      );
      emit(r, opts.json, latencyBenchLines(r));
    });
  bench
    .command('dashboard')
    .description('p50/p95 of every dashboard API endpoint under concurrent clients, against two baselines')
    .option(
      '--events <n>',
      'events in Cassandra (over the last 24 hours)',
      String(DEFAULT_SIZES.dashboard.events),
    )
    .option('--mart-events <n>', 'of which loaded into the warehouse and built by dbt (default: all)')
    .option('--clients <n>', 'concurrent clients', String(DEFAULT_SIZES.dashboard.clients))
    .option('--requests <n>', 'requests per endpoint', String(DEFAULT_SIZES.dashboard.requests))
    .option('--json', 'last line: one JSON object')
    .action(
      async (opts: {
        events: string;
        martEvents?: string;
        clients: string;
        requests: string;
        json?: boolean;
      }) => {
        const { dashboardBench } = await import('../bench/dashboard-bench.ts');
        const r = await quietly(loadConfig(), () =>
          dashboardBench({
            events: positive('--events')(opts.events),
            martEvents:
              opts.martEvents === undefined ? undefined : positive('--mart-events')(opts.martEvents),
            clients: positive('--clients')(opts.clients),
            requests: positive('--requests')(opts.requests),
          }),
        );
        emit(r, opts.json, dashboardBenchLines(r));
      },
    );
}
