// The streaming worker's lifecycle: a consumer-group member that connects, runs the consumer with
// the partition pipeline as its batch handler (partition-pipeline.ts), starts the consumer again
// after a crash kafkajs does not restart from, rolls by age on a timer, and stops gracefully.
import type cassandraDriver from 'cassandra-driver';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { Hdfs } from '../../lib/clients/hdfs.ts';
import type { Config } from '../../lib/config.ts';
import { errorMessage } from '../../lib/errors.ts';
import { DEFAULT_PARSE_OPTIONS, type ParseOptions } from '../../lib/events/parse.ts';
import type { Logger } from '../../lib/log.ts';
import { CassandraSink } from './cassandra-sink.ts';
import { DEFAULT_DLQ_LIMITS } from './dead-letter.ts';
import { HdfsRawSink } from './hdfs-raw-sink.ts';
import type { StreamMetrics } from './metrics.ts';
import { PartitionPipeline } from './partition-pipeline.ts';
import { pause, retry, ShutdownError } from './retry.ts';

/** A restart waits 1 s after the crash, then 2, 4, 8 and at most 10 s between attempts. */
const RESTART_BACKOFF = { initialMs: 1000, maxMs: 10_000 };

export interface StreamWorkerDeps {
  config: Config;
  kafka: Kafka;
  cassandra: cassandraDriver.Client;
  hdfs: Hdfs;
  log: Logger;
  metrics: StreamMetrics;
  parseOptions?: Partial<ParseOptions>;
}

export class StreamWorker {
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  private readonly pipeline: PartitionPipeline;
  private readonly topic: string;
  /** stop() was called: the consumer is not started again. */
  private closing = false;
  private rollTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: StreamWorkerDeps) {
    const { config, kafka } = deps;
    this.topic = config.KAFKA_TOPIC;
    this.consumer = kafka.consumer({
      groupId: config.STREAM_GROUP_ID,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      // Kafka returns at least one record batch per fetch even when it is larger than these.
      maxBytes: config.STREAM_FETCH_MAX_BYTES,
      maxBytesPerPartition: Math.max(65_536, Math.floor(config.STREAM_FETCH_MAX_BYTES / 4)),
    });
    this.dlqProducer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    this.pipeline = new PartitionPipeline({
      config,
      topic: this.topic,
      log: deps.log,
      metrics: deps.metrics,
      cassandraSink: new CassandraSink(
        deps.cassandra,
        config.CASSANDRA_KEYSPACE,
        config.STREAM_CASSANDRA_CONCURRENCY,
      ),
      rawSink: new HdfsRawSink(deps.hdfs, config.HDFS_RAW_ROOT, this.topic),
      dlqProducer: this.dlqProducer,
      parseOptions: { ...DEFAULT_PARSE_OPTIONS, maxBytes: config.MAX_EVENT_BYTES, ...deps.parseOptions },
      dlqLimits: { ...DEFAULT_DLQ_LIMITS, maxValueBytes: config.DLQ_MAX_VALUE_BYTES },
      commit: (partition, offset) => this.consumer.commitOffsets([{ topic: this.topic, partition, offset }]),
    });
  }

  health() {
    return { partitions: this.pipeline.health(), stopping: this.pipeline.stopping };
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.pipeline.joinedGroup();
      this.deps.log.info({ assignment: e.payload.memberAssignment }, 'joined the consumer group');
    });
    // kafkajs restarts the consumer after most errors, but not after one it deems final, such as
    // "Failed to find group coordinator" when the broker restarts: the consumer would be gone for
    // good in a process that looks healthy. Start it again until the broker answers; it rejoins
    // the group, and every partition starts over from its committed offset and its HDFS marker.
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (e.payload.restart || this.closing) return;
      this.deps.log.error(
        { err: e.payload.error.message },
        'the consumer stopped on an error kafkajs does not retry: starting it again',
      );
      void this.rerun();
    });
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.run();
    this.rollTimer = setInterval(() => this.pipeline.rollByAge(), 250);
  }

  private run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 6,
      eachBatch: (payload) => this.pipeline.eachBatch(payload),
    });
  }

  /** Starts the crashed consumer again, with backoff, until it runs or the worker stops. */
  private async rerun(): Promise<void> {
    // Unlike a sink write, the first attempt waits too: right after the crash the broker is away.
    await pause(RESTART_BACKOFF.initialMs);
    let attempts = 0;
    const restart = async () => {
      if (this.closing) throw new ShutdownError('stopping: the consumer is not started again');
      attempts++;
      try {
        await this.consumer.connect();
        await this.run();
      } catch (err) {
        // A crash inside run() is reported by the CRASH event, which starts over by itself.
        this.deps.log.warn({ err: errorMessage(err) }, 'consumer restart failed');
        await this.consumer.disconnect().catch(() => {});
        throw err;
      }
    };
    // The waits after the first one: 2, 4, 8, 10, 10 ... s.
    const after = { initialMs: 2 * RESTART_BACKOFF.initialMs, maxMs: RESTART_BACKOFF.maxMs };
    try {
      await retry('restarting the consumer', restart, { ...after, stopping: () => this.closing });
      this.deps.log.info({ attempt: attempts }, 'consumer running again');
    } catch (err) {
      if (!(err instanceof ShutdownError)) throw err;
    }
  }

  /**
   * Graceful stop: stop fetching, finish the sinks' writes, roll and commit what was processed, and
   * only then leave the group (a commit needs a member of the group: after consumer.stop() it would
   * always fail). Returns the partitions whose final roll or commit failed: they start again from
   * their last commit and their HDFS marker, so nothing is lost, but the stop was not clean.
   */
  async stop(): Promise<{ uncommitted: number[] }> {
    this.closing = true;
    if (this.rollTimer) clearInterval(this.rollTimer);
    this.pipeline.draining = true;
    try {
      this.consumer.pause([{ topic: this.topic }]);
    } catch {
      /* not running: nothing is being fetched */
    }
    // A sink that stays down must not hold the stop forever (an orchestrator would kill -9 anyway):
    // past the timeout the failing writes give up, and what they held stays uncommitted.
    const timeoutMs = this.deps.config.STREAM_STOP_TIMEOUT_MS;
    const deadline = setTimeout(() => {
      this.deps.log.warn(
        { timeoutMs },
        'the sinks did not take the last rolls in time: stopping without committing them (they are read again)',
      );
      this.pipeline.stopping = true;
    }, timeoutMs);
    let uncommitted: number[];
    try {
      uncommitted = await this.pipeline.rollAll();
    } finally {
      clearTimeout(deadline);
    }
    this.pipeline.stopping = true;
    await this.consumer.stop();
    await this.consumer.disconnect();
    await this.dlqProducer.disconnect();
    return { uncommitted };
  }
}
