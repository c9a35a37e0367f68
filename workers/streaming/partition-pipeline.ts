// The batch handling of the streaming worker, per partition: a fetched batch's events are upserted
// into Cassandra at once (low latency), invalid messages dead-lettered, the raw lines buffered and
// rolled into HDFS by count, size or age, and only then is the partition's offset committed
// (Cassandra is always ahead). A sink that is down pauses the partition: its write is retried while
// the group membership is kept alive; nothing is committed past what both sinks hold.
import type { EachBatchPayload } from 'kafkajs';
import type { Config } from '../../lib/config.ts';
import { dlqTopic } from '../../lib/config.ts';
import { errorMessage } from '../../lib/errors.ts';
import { type FlatEvent, flattenEvent } from '../../lib/events/flatten.ts';
import { type ParseOptions, parseEvent } from '../../lib/events/parse.ts';
import type { Logger } from '../../lib/log.ts';
import type { Observe } from '../../lib/weighted-histogram.ts';
import type { CassandraSink } from './cassandra-sink.ts';
import { type DeadLetterLimits, deadLetter, type Rejected } from './dead-letter.ts';
import { FencedError, type HdfsRawSink } from './hdfs-raw-sink.ts';
import type { StreamMetrics } from './metrics.ts';
import { commitOffsetAfter, OffsetTracker } from './offset-tracker.ts';
import { PartitionBuffer } from './partition-buffer.ts';
import type { PendingLine } from './raw-layout.ts';
import { retry, sleep } from './retry.ts';

interface PartitionState {
  buffer: PartitionBuffer;
  offsets: OffsetTracker;
  /** Message bytes of this partition's chunks whose sink writes have not finished. */
  writingBytes: number;
  /** A roll of this partition is queued or running. */
  rolling: boolean;
  recovered: Promise<void>;
  /** The chain of this partition's sink writes, in offset order. */
  writes: Promise<void>;
  inFlight: Promise<void>[];
}

const MAX_CHUNKS_IN_FLIGHT = 2;
const CHUNK = 2000;
/** A sink write is retried forever, 250 ms after its first failure, at most 15 s apart. */
export const SINK_BACKOFF = { initialMs: 250, maxMs: 15_000 };

/**
 * The messages each accepted event of a chunk came from, by event id, to dead-letter the events a
 * sink refused. Built only when one was refused: a map per chunk costs every event an allocation.
 */
function sourcesOf(
  flats: readonly FlatEvent[],
  from: readonly number[],
  chunk: readonly { offset: string; value: Buffer | null }[],
): Map<string, { offset: string; value: Buffer }[]> {
  const sources = new Map<string, { offset: string; value: Buffer }[]>();
  for (let k = 0; k < flats.length; k++) {
    const m = chunk[from[k] as number];
    const id = flats[k]?.event_id;
    if (!m || id === undefined) continue;
    const src = { offset: m.offset, value: m.value ?? Buffer.alloc(0) };
    const seen = sources.get(id);
    if (seen) seen.push(src);
    else sources.set(id, [src]);
  }
  return sources;
}

/**
 * Where in each roll interval a partition's slot boundary falls: the golden ratio's multiples modulo
 * 1 keep any number of partitions as far apart as possible, so the six partitions of `LogEvents` roll
 * at least 9% of the interval apart rather than all in the same timer tick.
 */
export function rollPhase(partition: number, maxAgeMs: number): number {
  const golden = 0.618_033_988_749_895;
  return Math.floor(((partition * golden) % 1) * maxAgeMs);
}

export interface PartitionPipelineDeps {
  config: Config;
  topic: string;
  log: Logger;
  metrics: StreamMetrics;
  cassandraSink: CassandraSink;
  rawSink: HdfsRawSink;
  dlqProducer: Parameters<typeof deadLetter>[0];
  parseOptions: ParseOptions;
  dlqLimits: DeadLetterLimits;
  /** Commits the partition's offset in the consumer group. */
  commit(partition: number, offset: string): Promise<void>;
}

export class PartitionPipeline {
  private readonly stages: Record<'kafka' | 'queue' | 'cassandra', Observe>;
  private readonly states = new Map<number, PartitionState>();
  /** Per-partition chain of HDFS work (flushes, recovery): never two at once for a partition. */
  private readonly lanes = new Map<number, Promise<unknown>>();
  /** The consumer is being stopped: a failing sink write is given up (ShutdownError). */
  stopping = false;
  /** stop() is rolling and committing: no new chunk is started. */
  draining = false;
  private generation = 0;
  /** Partitions another member claimed in HDFS during this generation: not processed until the next join. */
  private readonly fenced = new Set<number>();
  /** Before this (epoch ms), rolls are by age only: see PartitionBuffer.dueBySlot. */
  private readonly quietUntil: number;

  constructor(private readonly deps: PartitionPipelineDeps) {
    this.quietUntil = Date.now() + deps.config.HDFS_ROLL_MAX_AGE_MS / 2;
    const stage = (name: string) => deps.metrics.stageSeconds.labels(name);
    this.stages = { kafka: stage('kafka'), queue: stage('queue'), cassandra: stage('cassandra') };
  }

  /**
   * A rebalance re-delivers from the committed offsets: every partition starts over from its HDFS
   * marker, and what was buffered but not committed is dropped (it comes again).
   */
  joinedGroup(): void {
    this.generation++;
    this.states.clear();
    this.fenced.clear();
  }

  health() {
    return [...this.states.entries()].map(([p, s]) => ({
      partition: p,
      pending: s.buffer.length,
      processed: s.offsets.processedEnd?.toString() ?? null,
      committed: s.offsets.committedEnd?.toString() ?? null,
    }));
  }

  private lane<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const prev = this.lanes.get(partition) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(work);
    this.lanes.set(partition, next);
    return next;
  }

  /** Retries a sink write with backoff until it succeeds or the worker stops. */
  private retrySink<T>(sink: string, fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
    return retry(sink, fn, {
      ...SINK_BACKOFF,
      heartbeat,
      stopping: () => this.stopping,
      isFinal: (err) => err instanceof FencedError, // never succeeds: another member owns the partition
      onRetry: (err, attempt, delay) => {
        this.deps.metrics.sinkErrors.inc({ sink });
        this.deps.log.warn(
          { sink, attempt, retryInMs: delay, err: errorMessage(err) },
          `${sink} write failed: pausing and retrying`,
        );
      },
    });
  }

  private state(partition: number): PartitionState {
    let s = this.states.get(partition);
    if (!s) {
      const fresh: PartitionState = {
        buffer: new PartitionBuffer(),
        offsets: new OffsetTracker(),
        writingBytes: 0,
        rolling: false,
        recovered: Promise.resolve(),
        writes: Promise.resolve(),
        inFlight: [],
      };
      fresh.recovered = this.lane(partition, async () => {
        const end = await this.retrySink('hdfs', () => this.deps.rawSink.recover(partition));
        if (end !== undefined) {
          fresh.offsets.recovered(end);
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

  async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    const generation = this.generation;
    if (this.fenced.has(partition)) return;
    const st = this.state(partition);
    await st.recovered;
    const { metrics, config, topic } = this.deps;
    for (let i = 0; i < batch.messages.length; i += CHUNK) {
      if (!isRunning() || isStale() || this.stopping || this.draining || generation !== this.generation)
        return;
      const started = process.hrtime.bigint();
      const chunk = batch.messages.slice(i, i + CHUNK);
      // Where an event's time goes, stage by stage, one observation per message so that the
      // quantiles are of events, not of chunks (bench latency attributes its tail with these); a
      // chunk's events that share a time are one weighted observation:
      // kafka = from the producer's timestamp of a message to its arrival here.
      const receivedAt = Date.now();
      const stages = this.stages;
      for (const m of chunk) {
        const produced = Number(m.timestamp);
        if (Number.isFinite(produced)) stages.kafka(Math.max(0, receivedAt - produced) / 1000);
      }
      const flats: FlatEvent[] = [];
      const lines: PendingLine[] = [];
      const rejected: Rejected[] = [];
      /** The chunk's message of each accepted event (flats[k] came from chunk[from[k]]). */
      const from: number[] = [];
      for (let j = 0; j < chunk.length; j++) {
        const m = chunk[j] as (typeof chunk)[number];
        const offset = BigInt(m.offset);
        if (st.offsets.alreadyStored(offset)) continue; // in HDFS and Cassandra before a crash
        const value = m.value ?? Buffer.alloc(0);
        const res = parseEvent(value, this.deps.parseOptions);
        if (res.ok) {
          const flat = flattenEvent(res.event);
          flats.push(flat);
          lines.push({ offset, at: flat.timestamp, line: res.bytes });
          from.push(j);
        } else {
          rejected.push({ offset: m.offset, value, reason: res.reason, detail: res.detail });
        }
      }
      metrics.consumed.inc({ topic }, chunk.length);
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
          stages.queue(queued, chunk.length);
          const refused = await this.retrySink(
            'cassandra',
            () => this.deps.cassandraSink.write(flats),
            heartbeat,
          );
          const wrote = (Date.now() - writeAt) / 1000;
          stages.cassandra(wrote, chunk.length);
          /** Offsets of the refused events' messages: their lines stay out of HDFS. */
          const dropped = new Set<string>();
          const sources = refused.length ? sourcesOf(flats, from, chunk) : new Map();
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
          await this.retrySink(
            'kafka-dlq',
            () =>
              deadLetter(
                this.deps.dlqProducer,
                dlqTopic(config),
                { topic, partition },
                rejected,
                this.deps.dlqLimits,
              ),
            heartbeat,
          );
          metrics.written.inc({ sink: 'cassandra' }, flats.length - refused.length);
          for (const r of rejected) metrics.deadLettered.inc({ reason: r.reason });
          const kept = dropped.size ? lines.filter((l) => !dropped.has(l.offset.toString())) : lines;
          if (generation !== this.generation) return;
          st.buffer.add(kept, Date.now());
          st.offsets.processedTo(BigInt(last.offset));
          metrics.lag.set(
            { partition: String(partition) },
            Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)),
          );
          metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
          const limits = { maxEvents: config.HDFS_ROLL_MAX_EVENTS, maxBytes: config.HDFS_ROLL_MAX_BYTES };
          if (st.buffer.holds(limits)) {
            const flushing = this.flush(partition);
            // Back-pressure: while HDFS is slow, at most two rolls' worth is buffered.
            if (st.buffer.holds(limits, 2)) await flushing;
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
  heldBytes(): number {
    let n = 0;
    for (const st of this.states.values()) n += st.writingBytes + st.buffer.pendingBytes;
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
        .filter(([, st]) => st.buffer.pendingBytes > 0 && !st.rolling)
        .sort(([, a], [, b]) => b.buffer.pendingBytes - a.buffer.pendingBytes)[0];
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
      const end = st?.offsets.uncommittedEnd();
      if (!st || end === undefined) return;
      const generation = this.generation;
      const lines = st.buffer.takeRoll();
      let files: string[];
      try {
        files = await this.retrySink('hdfs', () => this.deps.rawSink.flush(partition, lines, end));
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
      await this.deps.commit(partition, commitOffsetAfter(end));
      st.offsets.committedTo(end);
      this.deps.metrics.committed.set({ partition: String(partition) }, Number(end));
      this.deps.log.debug(
        { partition, end: end.toString(), events: lines.length, files: files.length },
        'rolled to HDFS and committed',
      );
    });
  }

  /**
   * Rolls every partition whose slot (HDFS_ROLL_MAX_AGE_MS long, on its own phase) ended since its
   * oldest line arrived, or whose oldest line is HDFS_ROLL_MAX_AGE_MS old, or whose end is
   * uncommitted.
   */
  rollByAge(): void {
    this.deps.metrics.heldBytes.set(this.heldBytes());
    const maxAge = this.deps.config.HDFS_ROLL_MAX_AGE_MS;
    for (const [partition, st] of this.states) {
      const due = st.buffer.length
        ? st.buffer.dueBySlot(Date.now(), maxAge, rollPhase(partition, maxAge), this.quietUntil)
        : st.offsets.uncommittedEnd() !== undefined;
      if (due)
        this.flush(partition).catch((err) =>
          this.deps.log.warn({ partition, err: errorMessage(err) }, 'roll failed'),
        );
    }
  }

  /**
   * The last of a graceful stop (draining is set and fetching paused): waits for the sinks' writes,
   * then rolls and commits what was processed. Returns the partitions whose final roll or commit
   * failed, in order.
   */
  async rollAll(): Promise<number[]> {
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
    return uncommitted.sort((a, b) => a - b);
  }
}
