// Prometheus metrics of the streaming worker, served on /metrics (prom-client).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { WeightedHistogram } from '../../lib/weighted-histogram.ts';

export function createStreamMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'logpipe_stream_' });
  return {
    registry,
    consumed: new Counter({
      name: 'logpipe_stream_consumed_total',
      help: 'Messages consumed from Kafka',
      labelNames: ['topic'],
      registers: [registry],
    }),
    written: new Counter({
      name: 'logpipe_stream_written_total',
      help: 'Events written, per sink',
      labelNames: ['sink'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'logpipe_stream_dead_lettered_total',
      help: 'Messages sent to the dead-letter topic, per reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    sinkErrors: new Counter({
      name: 'logpipe_stream_sink_errors_total',
      help: 'Failed writes that were retried, per sink',
      labelNames: ['sink'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'logpipe_stream_batch_seconds',
      help: 'Time to process one fetched batch into Cassandra and the dead-letter topic',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    // One observation per event, but a chunk's events are counted in one call (weighted).
    stageSeconds: new WeightedHistogram({
      name: 'logpipe_stream_stage_seconds',
      help: 'Time of an event in each stage: kafka (produced to fetched), queue (fetched to written), cassandra (the write)',
      labelName: 'stage',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'logpipe_stream_lag',
      help: 'Messages behind the high watermark, per partition',
      labelNames: ['partition'],
      registers: [registry],
    }),
    budgetRolls: new Counter({
      name: 'logpipe_stream_budget_rolls_total',
      help: 'Rolls started early because the worker held STREAM_BUFFER_MAX_BYTES of messages',
      registers: [registry],
    }),
    heldBytes: new Gauge({
      name: 'logpipe_stream_held_bytes',
      help: 'Message bytes held: being written to the sinks or waiting for their HDFS roll',
      registers: [registry],
    }),
    committed: new Gauge({
      name: 'logpipe_stream_committed_offset',
      help: 'Last committed offset, per partition',
      labelNames: ['partition'],
      registers: [registry],
    }),
  };
}
export type StreamMetrics = ReturnType<typeof createStreamMetrics>;

export async function serveMetrics(
  registry: Registry,
  port: number,
  health: () => object,
  host = '127.0.0.1',
): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    } else if (req.url === '/healthz') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(health()));
    } else {
      res.statusCode = 404;
      res.end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export const boundPort = (server: Server) => (server.address() as AddressInfo).port;
