// The streaming worker: a consumer-group member that reads LogEvents in batches, upserts flattened
// events into Cassandra as soon as they are fetched (low latency), buffers their raw lines per
// partition and rolls them into HDFS by count, size or age, dead-letters invalid messages, and
// commits a partition's offset only after its lines are in HDFS (Cassandra is always ahead).
// A sink that is down pauses the partition: the write is retried with backoff while the group
// membership is kept alive; nothing is committed past what both sinks hold.
import type cassandraDriver from 'cassandra-driver';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Hdfs } from '../../lib/clients/hdfs.ts';
import type { Config } from '../../lib/config.ts';
import { dlqTopic } from '../../lib/config.ts';
import { errorMessage } from '../../lib/errors.ts';
import { type FlatEvent, flattenEvent } from '../../lib/events/flatten.ts';
import { DEFAULT_PARSE_OPTIONS, type ParseOptions, parseEvent } from '../../lib/events/parse.ts';
import type { Logger } from '../../lib/log.ts';
import { CassandraSink } from './cassandra-sink.ts';
import { DEFAULT_DLQ_LIMITS, type DeadLetterLimits, deadLetter, type Rejected } from './dead-letter.ts';
import { FencedError, HdfsRawSink } from './hdfs-raw-sink.ts';
import type { StreamMetrics } from './metrics.ts';
import type { PendingLine } from './raw-layout.ts';

interface PartitionState {
  pending: PendingLine[];
  pendingBytes: number;
  /** Message bytes of this partition's chunks whose sink writes have not finished. */
  writingBytes: number;
  /** A roll of this partition is queued or running. */
  rolling: boolean;
  firstPendingAt: number;
  /** Last offset written to Cassandra / the DLQ and resolved, not yet committed. */
  processedEnd: bigint | undefined;
  committedEnd: bigint | undefined;
  /** Offsets at or below this are already in HDFS (from the marker). */
  floor: bigint;
  recovered: Promise<void>;
  /** The chain of this partition's sink writes, in offset order. */
  writes: Promise<void>;
  inFlight: Promise<void>[];
}

const MAX_CHUNKS_IN_FLIGHT = 2;

export class ShutdownError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  private readonly cassandraSink: CassandraSink;
  private readonly rawSink: HdfsRawSink;
  private readonly stages: Record<'kafka' | 'queue' | 'cassandra', { observe(v: number): void }>;
  private readonly states = new Map<number, PartitionState>();
  /** Per-partition chain of HDFS work (flushes, recovery): never two at once for a partition. */
  private readonly lanes = new Map<number, Promise<unknown>>();
  private readonly topic: string;
  private readonly parseOptions: ParseOptions;
  private readonly dlqLimits: DeadLetterLimits;
  private stopping = false;
  /** stop() is rolling and committing: no new chunk is started. */
  private draining = false;
  /** stop() was called: the consumer is not started again. */
  private closing = false;
  private rollTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  /** Partitions another member claimed in HDFS during this generation: not processed until the next join. */
  private readonly fenced = new Set<number>();

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
    this.cassandraSink = new CassandraSink(
      deps.cassandra,
      config.CASSANDRA_KEYSPACE,
      config.STREAM_CASSANDRA_CONCURRENCY,
    );
    this.rawSink = new HdfsRawSink(deps.hdfs, config.HDFS_RAW_ROOT, this.topic);
    const stage = (name: string) => deps.metrics.stageSeconds.labels({ stage: name });
    this.stages = { kafka: stage('kafka'), queue: stage('queue'), cassandra: stage('cassandra') };
    this.parseOptions = { ...DEFAULT_PARSE_OPTIONS, maxBytes: config.MAX_EVENT_BYTES, ...deps.parseOptions };
    this.dlqLimits = { ...DEFAULT_DLQ_LIMITS, maxValueBytes: config.DLQ_MAX_VALUE_BYTES };
  }

  health() {
    return {
      partitions: [...this.states.entries()].map(([p, s]) => ({
        partition: p,
        pending: s.pending.length,
        processed: s.processedEnd?.toString() ?? null,
        committed: s.committedEnd?.toString() ?? null,
      })),
      stopping: this.stopping,
    };
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.consumer.connect();
    // A rebalance re-delivers from the committed offsets: every partition starts over from its
    // HDFS marker, and what was buffered but not committed is dropped (it comes again).
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.generation++;
      this.states.clear();
      this.fenced.clear();
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
    this.rollTimer = setInterval(() => this.rollByAge(), 250);
  }

  private run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 6,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private async rerun(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      await sleep(Math.min(10_000, 1000 * 2 ** Math.min(attempt, 4)));
      if (this.closing) return;
      try {
        await this.consumer.connect();
        await this.run();
        this.deps.log.info({ attempt: attempt + 1 }, 'consumer running again');
        return;
      } catch (err) {
        // A crash inside run() is reported by the CRASH event, which starts over by itself.
        this.deps.log.warn({ err: errorMessage(err) }, 'consumer restart failed');
        await this.consumer.disconnect().catch(() => {});
      }
    }
  }

  private lane<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const prev = this.lanes.get(partition) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(work);
    this.lanes.set(partition, next);
    return next;
  }

  private state(partition: number): PartitionState {
    let s = this.states.get(partition);
    if (!s) {
      const fresh: PartitionState = {
        pending: [],
        pendingBytes: 0,
        writingBytes: 0,
        rolling: false,
        firstPendingAt: 0,
        processedEnd: undefined,
        committedEnd: undefined,
        floor: -1n,
        recovered: Promise.resolve(),
        writes: Promise.resolve(),
        inFlight: [],
      };
      fresh.recovered = this.lane(partition, async () => {
        const end = await this.retry('hdfs', () => this.rawSink.recover(partition));
        if (end !== undefined) {
          fresh.floor = end;
          this.deps.log.info(
            { partition, end: end.toString() },
            'resuming after the last offset already in HDFS',
          );
        }
      });
      this.states.set(partition, fresh);
      s = fresh;
    }
    return s;
  }

  /** Retries a sink write with backoff until it succeeds or the worker stops. */
  private async retry<T>(sink: string, fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof FencedError) throw err; // never succeeds: another member owns the partition
        if (this.stopping) throw new ShutdownError(`stopping while ${sink} is failing`);
        this.deps.metrics.sinkErrors.inc({ sink });
        const delay = Math.min(15_000, 250 * 2 ** Math.min(attempt, 6));
        this.deps.log.warn(
          { sink, attempt: attempt + 1, retryInMs: delay, err: errorMessage(err) },
          `${sink} write failed: pausing and retrying`,
        );
        for (let waited = 0; waited < delay; waited += 1000) {
          await sleep(Math.min(1000, delay - waited));
          await heartbeat?.().catch(() => {}); // the batch may be over; the fetch loop heartbeats then
        }
      }
    }
  }

  private async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    const generation = this.generation;
    if (this.fenced.has(partition)) return;
    const st = this.state(partition);
    await st.recovered;
    const metrics = this.deps.metrics;
    const CHUNK = 2000;
    for (let i = 0; i < batch.messages.length; i += CHUNK) {
      if (!isRunning() || isStale() || this.stopping || this.draining || generation !== this.generation)
        return;
      const started = process.hrtime.bigint();
      const chunk = batch.messages.slice(i, i + CHUNK);
      // Where an event's time goes, stage by stage, one observation per message so that the
      // quantiles are of events, not of chunks (bench latency attributes its tail with these):
      // kafka = from the producer's timestamp of a message to its arrival here.
      const receivedAt = Date.now();
      const stages = this.stages;
      for (const m of chunk) {
        const produced = Number(m.timestamp);
        if (Number.isFinite(produced)) stages.kafka.observe(Math.max(0, receivedAt - produced) / 1000);
      }
      const flats: FlatEvent[] = [];
      const lines: PendingLine[] = [];
      const rejected: Rejected[] = [];
      /** Where each accepted event came from, to dead-letter it if a sink refuses it. */
      const sources = new Map<string, { offset: string; value: Buffer }[]>();
      for (const m of chunk) {
        const offset = BigInt(m.offset);
        if (offset <= st.floor) continue; // already in HDFS and Cassandra before a crash
        const value = m.value ?? Buffer.alloc(0);
        const res = parseEvent(value, this.parseOptions);
        if (res.ok) {
          const flat = flattenEvent(res.event);
          flats.push(flat);
          lines.push({ offset, at: flat.timestamp, line: res.bytes });
          const seen = sources.get(res.event.event_id);
          if (seen) seen.push({ offset: m.offset, value });
          else sources.set(res.event.event_id, [{ offset: m.offset, value }]);
        } else {
          rejected.push({ offset: m.offset, value, reason: res.reason, detail: res.detail });
        }
      }
      metrics.consumed.inc({ topic: this.topic }, chunk.length);
      const last = chunk.at(-1);
      if (!last) continue;
      let chunkBytes = 0;
      for (const m of chunk) chunkBytes += m.value?.length ?? 0;
      await this.withinBudget(chunkBytes, heartbeat);
      st.writingBytes += chunkBytes;
      // The sinks' writes run behind the fetches, in order per partition; the fetch position moves
      // on at once (the committed offset only moves after the sinks, in flush()).
      const job = st.writes
        .then(async () => {
          // Only what can succeed later is retried; an event Cassandra refuses for its content is
          // dead-lettered (sink_rejected) and kept out of HDFS, so every store holds the same events.
          const writeAt = Date.now();
          // queue = parsing, the byte budget and the partition's earlier chunks, before the write.
          const queued = (writeAt - receivedAt) / 1000;
          for (let k = 0; k < chunk.length; k++) stages.queue.observe(queued);
          const refused = await this.retry('cassandra', () => this.cassandraSink.write(flats), heartbeat);
          const wrote = (Date.now() - writeAt) / 1000;
          for (let k = 0; k < chunk.length; k++) stages.cassandra.observe(wrote);
          /** Offsets of the refused events' messages: their lines stay out of HDFS. */
          const dropped = new Set<string>();
          for (const r of refused) {
            for (const src of sources.get(r.event.event_id) ?? []) {
              rejected.push({
                ...src,
                reason: 'sink_rejected',
                sink: 'cassandra',
                detail: `cassandra: ${r.message}`,
              });
              dropped.add(src.offset);
            }
          }
          if (refused.length) {
            this.deps.log.warn(
              {
                partition,
                events: refused.slice(0, 10).map((r) => r.event.event_id),
                err: refused[0]?.message,
              },
              'Cassandra refused events for their content: dead-lettered as sink_rejected',
            );
          }
          await this.retry(
            'kafka-dlq',
            () =>
              deadLetter(
                this.dlqProducer,
                dlqTopic(this.deps.config),
                { topic: this.topic, partition },
                rejected,
                this.dlqLimits,
              ),
            heartbeat,
          );
          metrics.written.inc({ sink: 'cassandra' }, flats.length - refused.length);
          for (const r of rejected) metrics.deadLettered.inc({ reason: r.reason });
          const kept = dropped.size ? lines.filter((l) => !dropped.has(l.offset.toString())) : lines;
          if (generation !== this.generation) return;
          if (!st.pending.length && kept.length) st.firstPendingAt = Date.now();
          for (const l of kept) {
            st.pending.push(l);
            st.pendingBytes += l.line.length + 1;
          }
          st.processedEnd = BigInt(last.offset);
          metrics.lag.set(
            { partition: String(partition) },
            Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)),
          );
          metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
          const cfg = this.deps.config;
          if (st.pending.length >= cfg.HDFS_ROLL_MAX_EVENTS || st.pendingBytes >= cfg.HDFS_ROLL_MAX_BYTES) {
            const flushing = this.flush(partition);
            // Back-pressure: while HDFS is slow, at most two rolls' worth is buffered.
            if (
              st.pending.length >= 2 * cfg.HDFS_ROLL_MAX_EVENTS ||
              st.pendingBytes >= 2 * cfg.HDFS_ROLL_MAX_BYTES
            )
              await flushing;
          }
        })
        .finally(() => {
          st.writingBytes -= chunkBytes;
        });
      st.writes = job.catch(() => {});
      st.inFlight.push(job);
      resolveOffset(last.offset);
      // Back-pressure: a few chunks per partition in flight at most.
      while (st.inFlight.length > MAX_CHUNKS_IN_FLIGHT) await st.inFlight.shift()?.catch(() => {});
      await heartbeat().catch(() => {});
    }
  }

  /** Message bytes held across every partition: being written to the sinks or waiting for a roll. */
  private heldBytes(): number {
    let n = 0;
    for (const st of this.states.values()) n += st.writingBytes + st.pendingBytes;
    return n;
  }

  /**
   * One memory budget for the whole worker (STREAM_BUFFER_MAX_BYTES): a chunk waits until what is
   * held leaves room for it, rolling the fullest buffers early to make that room. A chunk larger
   * than the budget goes ahead alone, so the worker never stalls.
   */
  private async withinBudget(bytes: number, heartbeat: () => Promise<void>): Promise<void> {
    const budget = this.deps.config.STREAM_BUFFER_MAX_BYTES;
    for (let held = this.heldBytes(); held > 0 && held + bytes > budget; held = this.heldBytes()) {
      if (this.stopping || this.draining) return;
      const fullest = [...this.states.entries()]
        .filter(([, st]) => st.pendingBytes > 0 && !st.rolling)
        .sort(([, a], [, b]) => b.pendingBytes - a.pendingBytes)[0];
      if (fullest) {
        this.deps.metrics.budgetRolls.inc();
        void this.flush(fullest[0]).catch(() => {}); // a failing roll is retried and logged by flush
      }
      await sleep(10);
      await heartbeat().catch(() => {});
    }
  }

  /** Rolls the partition's buffer into HDFS, then commits its offset. */
  private flush(partition: number): Promise<void> {
    const queued = this.states.get(partition);
    if (queued) queued.rolling = true;
    return this.lane(partition, async () => {
      const st = this.states.get(partition);
      if (st) st.rolling = false;
      if (!st || st.processedEnd === undefined || st.processedEnd === st.committedEnd) return;
      const generation = this.generation;
      const lines = st.pending;
      const end = st.processedEnd;
      st.pending = [];
      st.pendingBytes = 0;
      let files: string[];
      try {
        files = await this.retry('hdfs', () => this.rawSink.flush(partition, lines, end));
      } catch (err) {
        if (!(err instanceof FencedError)) throw err;
        // Fenced: nothing of this roll is in HDFS, nothing is committed; the owner reads it again.
        this.deps.log.warn(
          { partition, err: err.message },
          'another member owns this partition now: this roll is dropped, uncommitted',
        );
        // Not claimed again before the next group join: a zombie still fetching would fence the owner.
        if (generation === this.generation) this.fenced.add(partition);
        return;
      }
      this.deps.metrics.written.inc({ sink: 'hdfs' }, lines.length);
      if (generation !== this.generation) return; // rebalanced meanwhile: the marker keeps HDFS exact
      await this.consumer.commitOffsets([{ topic: this.topic, partition, offset: (end + 1n).toString() }]);
      st.committedEnd = end;
      this.deps.metrics.committed.set({ partition: String(partition) }, Number(end));
      this.deps.log.debug(
        { partition, end: end.toString(), events: lines.length, files: files.length },
        'rolled to HDFS and committed',
      );
    });
  }

  private rollByAge(): void {
    this.deps.metrics.heldBytes.set(this.heldBytes());
    const maxAge = this.deps.config.HDFS_ROLL_MAX_AGE_MS;
    for (const [partition, st] of this.states) {
      const due = st.pending.length
        ? Date.now() - st.firstPendingAt >= maxAge
        : st.processedEnd !== st.committedEnd;
      if (due)
        this.flush(partition).catch((err) =>
          this.deps.log.warn({ partition, err: errorMessage(err) }, 'roll failed'),
        );
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
    this.draining = true;
    try {
      this.consumer.pause([{ topic: this.topic }]);
    } catch {
      /* not running: nothing is being fetched */
    }
    // A chunk that passed its check before draining began may still queue a write: wait until none do.
    for (let settled = false; !settled; ) {
      const chains = [...this.states.values()].map((st) => st.writes);
      await Promise.all(chains);
      settled = [...this.states.values()].every((st, i) => st.writes === chains[i]);
    }
    const uncommitted: number[] = [];
    await Promise.all(
      [...this.states.keys()].map((p) =>
        this.flush(p).catch((err) => {
          uncommitted.push(p);
          this.deps.log.error({ partition: p, err: errorMessage(err) }, 'final roll or commit failed');
        }),
      ),
    );
    this.stopping = true;
    await this.consumer.stop();
    await this.consumer.disconnect();
    await this.dlqProducer.disconnect();
    return { uncommitted: uncommitted.sort((a, b) => a - b) };
  }
}
