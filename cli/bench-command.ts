// `logpipe bench …`: benchmarks that print each figure beside a baseline measured in the same run.
import type { Command } from 'commander';
import { batchBench } from '../bench/batch-bench.ts';
import { latencyBench } from '../bench/latency-bench.ts';
import { streamBench } from '../bench/stream-bench.ts';

function emit(result: object, json: boolean | undefined, lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('benchmarks, each with a baseline measured in the same run');
  bench
    .command('stream')
    .description('worker throughput vs a bare consumer and Cassandra alone (ratio = a / min(b, c))')
    .option('--events <n>', 'events in the topic', '200000')
    .option('--json', 'last line: one JSON object')
    .action(async (opts: { events: string; json?: boolean }) => {
      const r = await streamBench(Number(opts.events));
      emit(r, opts.json, [
        `events:                 ${r.events}`,
        `(a) worker, both sinks: ${r.worker_eps} events/s`,
        `(b) bare consumer:      ${r.consume_eps} events/s`,
        `(c) Cassandra only:     ${r.cassandra_eps} events/s (concurrency ${r.cassandra_concurrency})`,
        `ratio a / min(b, c):    ${r.ratio} (goal >= 0.8)`,
        `worker RSS:             ${r.worker_rss_mib} MiB (goal <= 300)`,
        `machine:                ${r.machine}`,
      ]);
    });
  bench
    .command('batch')
    .description('the batch workflow on N events in HDFS vs psql \\copy of the same rows; then 1% new data')
    .option('--events <n>', 'events in raw HDFS files', '1000000')
    .option('--json', 'last line: one JSON object')
    .action(async (opts: { events: string; json?: boolean }) => {
      const n = Number(opts.events);
      if (!Number.isInteger(n) || n < 1000)
        throw new Error('--events expects a whole number of at least 1000');
      const r = await batchBench(n);
      emit(r, opts.json, [
        `events:                   ${r.events} in ${r.files} raw files (${r.mib} MiB)`,
        `run 1, end to end:        ${r.run1_s} s (${r.run_rows_per_s} events/s)`,
        ...r.run1_steps.map((s) => `  ${s.step.padEnd(22)}  ${(s.ms / 1000).toFixed(1)} s`),
        `(a) load step:            ${r.load_rows_per_s} rows/s`,
        `(b) psql \\copy baseline:  ${r.psql_copy_rows_per_s} rows/s`,
        `ratio a / b:              ${r.ratio_load_to_psql} (goal >= 0.7)`,
        `run 2, ${r.new_events} new events: ${r.run2_s} s; run 2 / run 1 = ${r.ratio_run2_to_run1} (goal <= 0.10)`,
        `dbt, first build:         ${r.dbt_full_s} s`,
        `dbt, incremental (1%):    ${r.dbt_incremental_s} s; incremental / full = ${r.ratio_dbt_incremental_to_full} (goal <= 0.15)`,
        `dbt tests per run:        ${r.dbt_tests}`,
        `machine:                  ${r.machine}`,
      ]);
    });
  bench
    .command('latency')
    .description('produce-to-readable latency in Cassandra at a steady rate')
    .option('--rate <r>', 'events per second', '2000')
    .option('--duration <s>', 'seconds of producing', '30')
    .option('--json', 'last line: one JSON object')
    .action(async (opts: { rate: string; duration: string; json?: boolean }) => {
      const r = await latencyBench(Number(opts.rate), Number(opts.duration));
      emit(r, opts.json, [
        `rate:       ${r.rate} events/s asked, ${r.achieved_rate} achieved, for ${r.duration_s} s`,
        `probes:     ${r.probes}`,
        `p50:        ${r.p50_ms} ms`,
        `p99:        ${r.p99_ms} ms (goal <= 1000)`,
        `max:        ${r.max_ms} ms`,
        `baseline:   ${r.baseline_ms} ms (the original's 10 s micro-batch trigger); p99 / baseline = ${r.ratio_p99_to_baseline}`,
        `worker RSS: ${r.worker_rss_mib} MiB (goal <= 300)`,
        `machine:    ${r.machine}`,
      ]);
    });
}
