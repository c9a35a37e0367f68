// Entry point of the streaming worker process: `./logpipe worker stream` and `./logpipe up` run it.
// Several can run at once: they share the topic's partitions as one consumer group.
import { createCassandra } from '../lib/clients/cassandra.ts';
import { Hdfs } from '../lib/clients/hdfs.ts';
import { createKafka } from '../lib/clients/kafka.ts';
import { ensureTopics } from '../lib/clients/kafka-topics.ts';
import { loadConfig } from '../lib/config.ts';
import { errorMessage } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { migrate } from './streaming/cassandra-schema.ts';
import { boundPort, createStreamMetrics, serveMetrics } from './streaming/metrics.ts';
import { retry } from './streaming/retry.ts';
import { StreamWorker } from './streaming/stream-worker.ts';

/** Retries a start-up step while Kafka answers with a retriable error (30 attempts, 1 s apart). */
function retryKafka(log: Logger, what: string, fn: () => Promise<void>): Promise<void> {
  return retry(what, fn, {
    initialMs: 1000,
    maxMs: 1000,
    attempts: 30,
    isFinal: (err) => (err as { retriable?: unknown } | null)?.retriable !== true,
    onRetry: (err, attempt) =>
      log.warn({ err: errorMessage(err), attempt }, `Kafka not ready while ${what}; retrying`),
  });
}

export async function runStreamingWorker(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('streaming-worker');
  const kafka = createKafka(config, `logpipe-streaming-${process.pid}`);
  // Right after a broker starts or a topic is created, its metadata can lag for a moment ("This
  // server does not host this topic-partition", retriable): a worker started then waits for it.
  await retryKafka(log, 'creating the topics', async () => {
    await ensureTopics(kafka, config);
  });

  const cassandra = createCassandra(config);
  await retry(
    'connecting to Cassandra',
    async () => {
      await cassandra.connect();
      await migrate(cassandra, config.CASSANDRA_KEYSPACE, {
        replicationFactor: config.CASSANDRA_REPLICATION_FACTOR,
        localDc: config.CASSANDRA_LOCAL_DC,
      });
    },
    {
      initialMs: 2000,
      maxMs: 2000,
      attempts: 30,
      onRetry: (err, attempt) =>
        log.warn({ err: errorMessage(err), attempt }, 'Cassandra not ready; retrying'),
    },
  );

  const metrics = createStreamMetrics();
  const worker = new StreamWorker({ config, kafka, cassandra, hdfs: new Hdfs(config), log, metrics });
  const server = await serveMetrics(
    metrics.registry,
    config.STREAM_METRICS_PORT,
    () => worker.health(),
    config.STREAM_METRICS_HOST,
  );
  log.info(
    { metricsPort: boundPort(server), topic: config.KAFKA_TOPIC, group: config.STREAM_GROUP_ID },
    'streaming worker starting',
  );
  await worker.start();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing the batch, rolling to HDFS, committing');
    try {
      const { uncommitted } = await worker.stop();
      await cassandra.shutdown();
      server.close();
      if (uncommitted.length) {
        log.error(
          { partitions: uncommitted },
          'stopped, but these partitions were not committed: they resume from their last commit and HDFS marker',
        );
        process.exit(1);
      }
      log.info('stopped cleanly');
      process.exit(0);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'unclean stop');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
