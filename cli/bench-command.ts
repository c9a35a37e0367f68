// `logpipe bench …`: benchmarks that print each figure beside a baseline measured in the same run.
import type { Command } from 'commander';
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
