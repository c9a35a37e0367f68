import { repoRoot } from '../lib/config.ts';
import { logpipeNodeArgs } from '../lib/node-args.ts';
import { httpJson } from '../stack/net.ts';
import type { LaunchSpec, ServiceDef } from '../stack/types.ts';

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
    env,
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
  return options.producer ? [streaming, producer] : [streaming];
}
