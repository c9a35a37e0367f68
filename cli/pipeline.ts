import { connectTemporal, queuePollers } from '../lib/clients/temporal.ts';
import { repoRoot } from '../lib/config.ts';
import { logpipeNodeArgs, logpipeNodeEnv } from '../lib/node-args.ts';
import { httpJson } from '../stack/net.ts';
import type { LaunchSpec, ServiceDef } from '../stack/types.ts';
import { SCHEDULE_ID } from '../temporal/names.ts';
import { ensureSchedule } from '../temporal/schedule.ts';

export interface PipelineOptions {
  producer: boolean;
  /** Events per second of the background producer. */
  producerRate?: number;
}

function logpipeCommand(args: string[], env: Record<string, string> = {}): LaunchSpec {
  return {
    command: process.execPath,
    args: logpipeNodeArgs(args),
    cwd: repoRoot,
    env: { ...logpipeNodeEnv(args), ...env },
  };
}

export function pipelineProcesses(options: PipelineOptions): ServiceDef[] {
  const streaming: ServiceDef = {
    name: 'streaming-worker',
    port: 9464,
    url: 'http://127.0.0.1:9464/metrics',
    processMarker: 'worker',
    stopTimeoutMs: 60_000,
    startTimeoutMs: 120_000,
    prepare: async (ctx) =>
      logpipeCommand(['worker', 'stream'], { STREAM_METRICS_PORT: String(ctx.config.STREAM_METRICS_PORT) }),
    ready: async (ctx) =>
      (await httpJson(`http://127.0.0.1:${ctx.config.STREAM_METRICS_PORT}/healthz`)) !== undefined,
  };
  const batch: ServiceDef = {
    name: 'batch-worker',
    processMarker: 'worker',
    stopTimeoutMs: 60_000,
    startTimeoutMs: 120_000,
    prepare: async () => logpipeCommand(['worker', 'batch']),
    // Ready when Temporal sees it polling the task queue.
    ready: async (ctx) => {
      try {
        const client = await connectTemporal(ctx.config);
        try {
          const pollers = await queuePollers(
            client,
            ctx.config.TEMPORAL_NAMESPACE,
            ctx.config.BATCH_TASK_QUEUE,
            'workflow',
          );
          return pollers.length > 0;
        } finally {
          await client.connection.close();
        }
      } catch {
        return false;
      }
    },
    // The schedule is created, or updated to match the code, once a worker can run it.
    afterStart: async (ctx) => {
      const client = await connectTemporal(ctx.config);
      try {
        ctx.progress.info('schedule', `${SCHEDULE_ID} ${await ensureSchedule(client, ctx.config)}`);
      } finally {
        await client.connection.close();
      }
    },
  };
  const producer: ServiceDef = {
    name: 'producer',
    optional: true,
    processMarker: 'produce',
    after: ['streaming-worker'],
    stopTimeoutMs: 20_000,
    prepare: async () =>
      logpipeCommand(['produce', '--duration', '8760h', '--rate', String(options.producerRate ?? 20)]),
    ready: async () => true,
  };
  const dashboard: ServiceDef = {
    name: 'dashboard',
    port: 8501,
    url: 'http://127.0.0.1:8501',
    processMarker: 'dashboard',
    stopTimeoutMs: 20_000,
    startTimeoutMs: 60_000,
    prepare: async (ctx) =>
      logpipeCommand(['dashboard'], {
        DASHBOARD_PORT: String(ctx.config.DASHBOARD_PORT),
        DASHBOARD_HOST: ctx.config.DASHBOARD_HOST,
      }),
    ready: async (ctx) =>
      (await httpJson(`http://${ctx.config.DASHBOARD_HOST}:${ctx.config.DASHBOARD_PORT}/healthz`)) !==
      undefined,
  };
  return options.producer ? [streaming, batch, dashboard, producer] : [streaming, batch, dashboard];
}
