// `logpipe bench` (or `bench all`): every benchmark in this process, one after another; a bench
// that fails is recorded with its error and the next one runs. bench/REPORT.md and
// bench/report.json are rewritten after each bench, so an interrupted run still leaves its figures.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/config.ts';
import { batchBench } from './batch-bench.ts';
import { dashboardBench } from './dashboard-bench.ts';
import { GOALS } from './goals.ts';
import { latencyBench } from './latency-bench.ts';
import { batchBenchLines, dashboardBenchLines, latencyBenchLines, streamBenchLines } from './lines.ts';
import { machineInfo } from './machine.ts';
import {
  BENCH_NAMES,
  type BenchName,
  type BenchOutcome,
  type BenchReport,
  type BenchResults,
  renderReport,
  reportRows,
} from './report.ts';
import type { BenchSizes } from './sizes.ts';
import { streamBench } from './stream-bench.ts';

export const REPORT_DIR = join(repoRoot, 'bench');

const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);

export type BenchRunners = { [K in BenchName]: (s: BenchSizes) => Promise<BenchResults[K]> };

const RUNNERS: BenchRunners = {
  stream: (s) => streamBench(s.stream.events),
  batch: (s) => batchBench(s.batch.events),
  latency: (s) => latencyBench(s.latency.rate, s.latency.durationS),
  dashboard: (s) => dashboardBench(s.dashboard),
};

const LINES: { [K in BenchName]: (r: BenchResults[K]) => string[] } = {
  stream: streamBenchLines,
  batch: batchBenchLines,
  latency: latencyBenchLines,
  dashboard: dashboardBenchLines,
};

/** Children of this process running logpipe's CLI (a worker, the dashboard) that a bench left behind. */
function leftoverLogpipeChildren(): number[] {
  const cli = join(repoRoot, 'cli', 'main.ts');
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(cli)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops what a failed bench left running, so that it does not skew the next one. */
async function stopLeftovers(): Promise<string[]> {
  const pids = leftoverLogpipeChildren();
  if (!pids.length) return [];
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  return [`stopped ${pids.length} logpipe process(es) the bench left running (pid ${pids.join(', ')})`];
}

const errorText = (err: unknown) =>
  err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);

export interface RunAllOptions {
  sizes: BenchSizes;
  quick: boolean;
  /** As typed, for the report. */
  command: string;
  /** Where REPORT.md and report.json go (default: bench/). */
  dir?: string;
}

/** What report.json holds: the raw results, the goals, and each figure with its verdict. */
export function reportJson(report: BenchReport) {
  return { ...report, goals: GOALS, figures: reportRows(report) };
}

export function writeReport(report: BenchReport, dir = REPORT_DIR): void {
  writeFileSync(join(dir, 'REPORT.md'), renderReport(report));
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(reportJson(report), null, 2)}\n`);
}

/** runners: the benchmark functions (replaceable to exercise the sequence without the stack). */
export async function runAllBenches(
  opts: RunAllOptions,
  runners: BenchRunners = RUNNERS,
): Promise<BenchReport> {
  const report: BenchReport = {
    command: opts.command,
    quick: opts.quick,
    started_at: new Date().toISOString(),
    machine: machineInfo(),
    sizes: opts.sizes,
    benches: {
      stream: { status: 'pending' },
      batch: { status: 'pending' },
      latency: { status: 'pending' },
      dashboard: { status: 'pending' },
    },
  };
  writeReport(report, opts.dir);

  // A bench that fails can leave a promise that rejects later or a listener that throws: note it
  // against the bench running at the time instead of letting it end the whole sequence.
  let notes: string[] = [];
  const stray = (err: unknown) => {
    say(`error outside the bench's own flow: ${errorText(err)}`);
    notes.push(`error outside the bench's own flow: ${err instanceof Error ? err.message : String(err)}`);
  };
  process.on('unhandledRejection', stray);
  process.on('uncaughtException', stray);

  async function runOne<K extends BenchName>(name: K, index: number): Promise<void> {
    notes = [];
    say(`${name} (${index + 1} of ${BENCH_NAMES.length})`);
    const t0 = performance.now();
    let outcome: BenchOutcome<BenchResults[K]>;
    try {
      const result = await runners[name](opts.sizes);
      outcome = { status: 'ok', seconds: (performance.now() - t0) / 1000, result, notes };
      process.stdout.write(`\n== bench ${name}\n${LINES[name](result).join('\n')}\n`);
    } catch (err) {
      outcome = { status: 'failed', seconds: (performance.now() - t0) / 1000, error: errorText(err), notes };
      process.stdout.write(`\n== bench ${name}: FAILED\n${errorText(err)}\n`);
    }
    notes.push(...(await stopLeftovers()));
    (report.benches as Record<K, BenchOutcome<BenchResults[K]>>)[name] = outcome;
    writeReport(report, opts.dir);
  }

  try {
    for (const [i, name] of BENCH_NAMES.entries()) await runOne(name, i);
  } finally {
    process.off('unhandledRejection', stray);
    process.off('uncaughtException', stray);
  }
  report.finished_at = new Date().toISOString();
  writeReport(report, opts.dir);
  return report;
}
