// The `logpipe` command: the local stack, the pipeline, its environment and its tests.
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { errorMessage } from '../lib/errors.ts';
import { pbidsFor } from '../lib/powerbi.ts';
import {
  allServices,
  binDir,
  logFile,
  serviceStatus,
  stackContext,
  stackDown,
  stackStatus,
  stackUp,
  startServices,
  stopServices,
} from '../stack/stack.ts';
import { registerBatch } from './batch-command.ts';
import { registerBench } from './bench-command.ts';
import { runDbt } from './dbt-command.ts';
import { registerDlq } from './dlq-command.ts';
import { envExports } from './env.ts';
import { followLogs } from './follow.ts';
import { statusTable } from './format.ts';
import { pipelineProcesses } from './pipeline.ts';
import { parseDuration, produce } from './produce-command.ts';
import { registerReconcile } from './reconcile-command.ts';
import { runTests } from './test-command.ts';

function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${flag} expects a positive number (got ${JSON.stringify(value)})`);
  return n;
}

function context() {
  return stackContext(loadConfig());
}

/** Stays in the foreground showing logs; Ctrl-C stops what this command started. */
async function foreground(
  ctx: ReturnType<typeof context>,
  started: string[],
  names: string[],
): Promise<void> {
  const services = allServices().concat(pipelineProcesses({ producer: true }));
  const stop = followLogs(Object.fromEntries(names.map((n) => [n, logFile(ctx, n)])));
  process.stdout.write(
    `logpipe is up; showing logs (Ctrl-C stops the ${started.length} process(es) started now)\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stop();
  process.stdout.write('\nstopping ...\n');
  await stopServices(
    ctx,
    services.filter((s) => started.includes(s.name)),
  );
}

const program = new Command('logpipe')
  .description(
    'E-commerce event logs from Kafka to HDFS, Cassandra and a PostgreSQL star schema, on Temporal',
  )
  .showHelpAfterError();

const stack = program
  .command('stack')
  .description('the six components only: Kafka, HDFS, Cassandra, PostgreSQL, Temporal, dbt');

stack
  .command('up')
  .description('install what is missing, then start every server that is not running')
  .option('--detach', 'return once everything is healthy')
  .action(async (opts: { detach?: boolean }) => {
    const ctx = context();
    const started = await stackUp(ctx);
    if (opts.detach) {
      process.stdout.write(
        `stack is up (${started.length ? `started: ${started.join(', ')}` : 'everything was already running'})\n`,
      );
      return;
    }
    await foreground(
      ctx,
      started,
      allServices().map((s) => s.name),
    );
  });

stack
  .command('down')
  .description('stop every server')
  .option('--purge', 'also delete the data directory (data and logs)')
  .action(async (opts: { purge?: boolean }) => {
    await stackDown(context(), opts.purge);
  });

stack
  .command('status')
  .description('state of each server, with the log of any that is down')
  .option('--json', 'machine-readable')
  .action(async (opts: { json?: boolean }) => {
    const services = await stackStatus(context());
    process.stdout.write(opts.json ? `${JSON.stringify({ services })}\n` : `${statusTable(services)}\n`);
    if (services.some((s) => s.state === 'down')) process.exitCode = 3;
  });

program
  .command('up')
  .description('start the whole pipeline: the stack, then the pipeline processes')
  .option('--detach', 'return once everything is healthy')
  .option('--no-producer', 'do not start the event producer')
  .action(async (opts: { detach?: boolean; producer: boolean }) => {
    const ctx = context();
    const started = await stackUp(ctx);
    const processes = pipelineProcesses({ producer: opts.producer });
    started.push(...(await startServices(ctx, processes)));
    if (opts.detach) {
      process.stdout.write(
        `logpipe is up (${started.length ? `started: ${started.join(', ')}` : 'everything was already running'})\n`,
      );
      return;
    }
    await foreground(
      ctx,
      started,
      [...allServices(), ...processes].map((s) => s.name),
    );
  });

program
  .command('down')
  .description('stop the pipeline processes, then the stack')
  .option('--purge', 'also delete the data directory (data and logs)')
  .action(async (opts: { purge?: boolean }) => {
    const ctx = context();
    await stopServices(ctx, pipelineProcesses({ producer: true }));
    await stackDown(ctx, opts.purge);
  });

program
  .command('status')
  .description('state of every server and pipeline process')
  .option('--json', 'machine-readable')
  .action(async (opts: { json?: boolean }) => {
    const ctx = context();
    const services = [
      ...(await stackStatus(ctx)),
      ...(await Promise.all(pipelineProcesses({ producer: true }).map((s) => serviceStatus(ctx, s)))),
    ];
    process.stdout.write(opts.json ? `${JSON.stringify({ services })}\n` : `${statusTable(services)}\n`);
    if (services.some((s) => s.state === 'down' && !s.optional)) process.exitCode = 3;
  });

program
  .command('produce')
  .description('publish events to Kafka: generated (--count or --duration) or replayed from an NDJSON file')
  .option('--count <n>', 'number of generated events', (v) => positiveNumber('--count', v))
  .option('--duration <d>', 'produce for this long (30s, 5m, 1h)')
  .option('--rate <r>', 'events per second (default: as fast as possible)', (v) =>
    positiveNumber('--rate', v),
  )
  .option('--seed <s>', 'seed of the generator: the same seed gives the same events')
  .option('--file <path>', 'send every line of this NDJSON file as is, malformed lines included')
  .action(
    async (opts: { count?: number; duration?: string; rate?: number; seed?: string; file?: string }) => {
      const summary = await produce(loadConfig(), {
        count: opts.count,
        durationMs: opts.duration === undefined ? undefined : parseDuration(opts.duration),
        rate: opts.rate,
        seed: opts.seed,
        file: opts.file,
      });
      if (summary.failed > 0) process.exitCode = 1;
    },
  );

const worker = program.command('worker').description('run a pipeline worker in the foreground');
worker
  .command('stream')
  .description('the streaming worker: Kafka to HDFS and Cassandra (several may run at once)')
  .action(async () => {
    const { runStreamingWorker } = await import('../workers/streaming-worker.ts');
    await runStreamingWorker();
  });

worker
  .command('batch')
  .description('the batch worker: a Temporal worker on task queue `batch` (several may run at once)')
  .action(async () => {
    const { runBatchWorker } = await import('../workers/batch-worker.ts');
    await runBatchWorker();
  });

program
  .command('dashboard')
  .description('the monitoring and analytics dashboard in the foreground (http://127.0.0.1:8501)')
  .option('--port <n>', 'port (default: DASHBOARD_PORT, 8501)', (v) => positiveNumber('--port', v))
  .option('--host <h>', 'interface to bind (default: DASHBOARD_HOST, 127.0.0.1)')
  .action(async (opts: { port?: number; host?: string }) => {
    const { runDashboard } = await import('../dashboard/main.ts');
    await runDashboard(opts);
  });

program
  .command('env')
  .description('print export lines: eval "$(./logpipe env)" wires a shell to the stack')
  .action(() => {
    const ctx = context();
    process.stdout.write(envExports(ctx.config, binDir(ctx)));
  });

program
  .command('dbt')
  .description("run dbt with the project's profile, from any directory (e.g. ./logpipe dbt debug)")
  .allowUnknownOption()
  .helpOption(false)
  .argument('[args...]', 'arguments for dbt')
  .action(async (args: string[]) => {
    process.exitCode = await runDbt(context(), args);
  });

program
  .command('powerbi')
  .description("print a Power BI data source file (.pbids) for this environment's warehouse")
  .action(() => {
    process.stdout.write(pbidsFor(loadConfig()));
  });

program
  .command('test')
  .description('run the whole test suite, starting the stack first if it is not up')
  .addOption(new Option('--unit', 'only the unit tests (no stack needed)'))
  .addOption(new Option('-t, --name <pattern>', 'only the tests whose name matches this regular expression'))
  .argument('[files...]', 'only these test files')
  .action(async (files: string[], opts: { unit?: boolean; name?: string }) => {
    process.exitCode = await runTests(context(), {
      unitOnly: Boolean(opts.unit),
      files,
      namePattern: opts.name,
    });
  });

registerBench(program);
registerBatch(program);
registerDlq(program);
registerReconcile(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`logpipe: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`logpipe: ${errorMessage(err)}\n`);
  process.exit(1);
}
