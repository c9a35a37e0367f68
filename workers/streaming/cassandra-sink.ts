// Writes flattened events to Cassandra: prepared upserts keyed by event_id, run concurrently.
import type cassandraDriver from 'cassandra-driver';
import { installBatchFrames } from '../../lib/clients/cassandra-batch-frame.ts';
import type { FlatEvent } from '../../lib/events/flatten.ts';
import { FLAT_COLUMNS } from './cassandra-schema.ts';
import { cassandraRejectsContent, serverMessage } from './sink-errors.ts';

const flatNames = FLAT_COLUMNS.map((c) => c.split(' ')[0] as keyof FlatEvent);
const USER_COLUMNS = [
  'user_id',
  'timestamp',
  'event_id',
  'event_type',
  'level',
  'session_id',
  'product_id',
  'geo_country',
  'geo_city',
  'details_amount',
] as const;

export function cassandraStatements(keyspace: string) {
  return {
    deleteLog: `DELETE FROM ${keyspace}.ecomm_log WHERE day = ? AND hour = ? AND timestamp = ? AND event_id = ?`,
    deleteByUser: `DELETE FROM ${keyspace}.events_by_user WHERE user_id = ? AND timestamp = ? AND event_id = ?`,
  };
}

// A bound null is a tombstone (a deletion marker every read of the partition scans and compaction
// keeps for gc_grace_seconds), and even an unset value costs a parameter to encode. So each row is
// written by an INSERT that names only the columns the event has: one prepared statement per
// column set (a handful: the five types and their optional fields), cached by a bit mask.
// An absent column writes nothing and reads back as null.
class InsertShapes {
  private readonly byMask = new Map<number, string>();
  constructor(
    private readonly table: string,
    private readonly fixed: readonly string[],
    private readonly optional: readonly string[],
    private readonly trailing: readonly string[],
  ) {}

  query(mask: number): string {
    let q = this.byMask.get(mask);
    if (!q) {
      const cols = [...this.fixed, ...this.optional.filter((_, i) => mask & (1 << i)), ...this.trailing];
      q = `INSERT INTO ${this.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
      this.byMask.set(mask, q);
    }
    return q;
  }
}

const LOG_OPTIONAL = flatNames.filter((n) => !['user_id', 'event_type'].includes(n));
const USER_OPTIONAL = USER_COLUMNS.slice(3);

/** One row's statement: the query for the columns present and their values, in order. */
export interface RowWrite {
  query: string;
  params: unknown[];
  /** About what the row weighs in a batch: its text lengths plus 8 bytes per other value. */
  bytes: number;
  /** The event the row is of (to find the events of a batch Cassandra refused). */
  event: FlatEvent;
}

/** The statements for one event's two rows; columns without a value are left out. */
export function rowWrites(
  e: FlatEvent,
  ingestedAt: Date,
  keyspace: string,
  shapes = shapesFor(keyspace),
): { log: RowWrite; byUser: RowWrite } {
  const log: unknown[] = [e.day, e.hour, e.timestamp, e.event_id, e.user_id, e.event_type];
  let bytes = 40 + e.event_id.length + e.user_id.length;
  let mask = 0;
  for (let i = 0; i < LOG_OPTIONAL.length; i++) {
    const v = e[LOG_OPTIONAL[i] as keyof FlatEvent];
    if (v !== null && v !== undefined) {
      mask |= 1 << i;
      log.push(v);
      bytes += typeof v === 'string' ? v.length : 8;
    }
  }
  log.push(ingestedAt);
  const byUser: unknown[] = [e.user_id, e.timestamp, e.event_id];
  let userBytes = 8 + e.event_id.length + e.user_id.length;
  let userMask = 0;
  for (let i = 0; i < USER_OPTIONAL.length; i++) {
    const v = e[USER_OPTIONAL[i] as keyof FlatEvent];
    if (v !== null && v !== undefined) {
      userMask |= 1 << i;
      byUser.push(v);
      userBytes += typeof v === 'string' ? v.length : 8;
    }
  }
  return {
    log: { query: shapes.log.query(mask), params: log, bytes, event: e },
    byUser: { query: shapes.byUser.query(userMask), params: byUser, bytes: userBytes, event: e },
  };
}

const shapeCache = new Map<string, { log: InsertShapes; byUser: InsertShapes }>();
function shapesFor(keyspace: string) {
  let s = shapeCache.get(keyspace);
  if (!s) {
    s = {
      log: new InsertShapes(
        `${keyspace}.ecomm_log`,
        ['day', 'hour', 'timestamp', 'event_id', 'user_id', 'event_type'],
        LOG_OPTIONAL,
        ['ingested_at'],
      ),
      byUser: new InsertShapes(
        `${keyspace}.events_by_user`,
        ['user_id', 'timestamp', 'event_id'],
        USER_OPTIONAL,
        [],
      ),
    };
    shapeCache.set(keyspace, s);
  }
  return s;
}

/** An event Cassandra refused for what it holds, with the server's (or the driver's) message. */
export interface SinkRejection {
  event: FlatEvent;
  message: string;
}

/** Rows per unlogged single-partition batch (bench stream: 50 rows cost 7% less CPU than 25). */
const BATCH_ROWS = 50;
/**
 * A batch also ends at about 32 KiB, under Cassandra's default batch_size_fail_threshold (50 KiB):
 * a few large events (64 KiB is allowed) would otherwise make a batch the server refuses.
 */
const BATCH_BYTES = 32 * 1024;
/**
 * Rows per unlogged batch of events_by_user, whose rows are spread over many partitions (one per
 * user) but all live on the node the batch goes to. Cassandra warns above 10 partitions in one
 * unlogged batch by default (unlogged_batch_across_partitions_warn_threshold, 50 in the local
 * stack): that warning is about coordinator fan-out, which replica grouping avoids. bench stream
 * (400 k events) measured 10 -> 50 rows: worker 59.3 -> 54.5 µs/event, Cassandra 25.9 -> 21.4 CPU s,
 * 11,829 -> 13,816 events/s.
 */
const REPLICA_BATCH_ROWS = 50;

/** Cuts one group's rows into batches of at most `rows` rows and about `maxBytes` bytes. */
export function splitBatches<T extends { bytes: number }>(list: T[], rows: number, maxBytes: number): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const st of list) {
    if (batch.length && (batch.length >= rows || bytes + st.bytes > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(st);
    bytes += st.bytes;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

export class CassandraSink {
  private readonly statements;
  private readonly shapes;

  constructor(
    private readonly client: cassandraDriver.Client,
    private readonly keyspace: string,
    private readonly concurrency: number,
  ) {
    this.statements = cassandraStatements(keyspace);
    this.shapes = shapesFor(keyspace);
    // The sink's batches are most of the worker's CPU: their frames are written in one buffer.
    installBatchFrames();
  }

  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /** At most `concurrency` requests in flight across every caller (all partitions share Cassandra). */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private send(b: RowWrite[], logged = false): Promise<unknown> {
    return this.limited(() =>
      b.length === 1
        ? this.client.execute(b[0]?.query as string, b[0]?.params, { prepare: true })
        : // The driver reads query and params of each item (and copies them): no copy needed here.
          this.client.batch(b, { prepare: true, logged }),
    );
  }

  /**
   * The node that owns a user's partition (the first replica on the token ring), or undefined
   * before the driver knows the ring. A batch is routed to the replica of its first row, so rows
   * grouped by replica are all written where they live: no coordinator fan-out.
   */
  private replicaOf(userId: string): string | undefined {
    const now = Date.now();
    // Hashing every key costs more than a lookup; a stale entry after a topology change only
    // costs a forwarded write, and the cache starts over every minute and at 100,000 users.
    if (now - this.replicasSince > 60_000 || this.replicas.size >= 100_000) {
      this.replicas.clear();
      this.replicasSince = now;
    }
    let replica = this.replicas.get(userId);
    if (replica === undefined) {
      replica = this.client.getReplicas(this.keyspace, Buffer.from(userId, 'utf8'))?.[0]?.address ?? '';
      if (replica) this.replicas.set(userId, replica);
    }
    return replica || undefined;
  }
  private readonly replicas = new Map<string, string>();
  private replicasSince = 0;

  /**
   * Upserts the events; returns those Cassandra refused for their content (the others are written).
   * Throws only what may succeed later (a node down, a timeout), for the caller to retry.
   */
  async write(events: FlatEvent[]): Promise<SinkRejection[]> {
    if (!events.length) return [];
    const now = new Date();
    // Rows of one hour partition go together in an unlogged batch: one mutation for Cassandra
    // instead of one request per row. A user's rows are spread over as many partitions as there
    // are users, so they are grouped by the node that owns them instead (token-aware batching).
    const groups = new Map<string, { rows: number; list: RowWrite[] }>();
    const add = (key: string, rows: number, s: RowWrite) => {
      const g = groups.get(key);
      if (g) g.list.push(s);
      else groups.set(key, { rows, list: [s] });
    };
    for (const e of events) {
      const w = rowWrites(e, now, this.keyspace, this.shapes);
      add(`l|${e.day}|${e.hour}`, BATCH_ROWS, w.log);
      const replica = this.replicaOf(e.user_id);
      if (replica) add(`r|${replica}`, REPLICA_BATCH_ROWS, w.byUser);
      else add(`u|${e.user_id}`, BATCH_ROWS, w.byUser);
    }
    const batches: RowWrite[][] = [];
    for (const { rows, list } of groups.values()) batches.push(...splitBatches(list, rows, BATCH_BYTES));
    const suspects = new Set<FlatEvent>();
    await Promise.all(
      batches.map((b) =>
        this.send(b).catch((err: unknown) => {
          if (!cassandraRejectsContent(err)) throw err;
          for (const s of b) suspects.add(s.event);
        }),
      ),
    );
    if (!suspects.size) return [];
    return this.isolate([...suspects], now);
  }

  /**
   * Writes each event of a refused batch alone, its two rows in one logged batch (applied or refused
   * together), to find the ones at fault. A refused event's row that a batch of the first pass did
   * write is deleted again, so that Cassandra keeps no event that HDFS and the warehouse will not.
   */
  private async isolate(suspects: FlatEvent[], now: Date): Promise<SinkRejection[]> {
    const rejected: SinkRejection[] = [];
    for (const e of suspects) {
      const w = rowWrites(e, now, this.keyspace, this.shapes);
      try {
        await this.send([w.log, w.byUser], true);
      } catch (err) {
        if (!cassandraRejectsContent(err)) throw err;
        rejected.push({ event: e, message: serverMessage(err) });
      }
    }
    for (const { event: e } of rejected) {
      const deletes: RowWrite[] = [
        {
          query: this.statements.deleteLog,
          params: [e.day, e.hour, e.timestamp, e.event_id],
          event: e,
          bytes: 0,
        },
        {
          query: this.statements.deleteByUser,
          params: [e.user_id, e.timestamp, e.event_id],
          event: e,
          bytes: 0,
        },
      ];
      for (const d of deletes) {
        // The table whose key the server refused cannot hold the row either: nothing to delete.
        await this.send([d]).catch((err: unknown) => {
          if (!cassandraRejectsContent(err)) throw err;
        });
      }
    }
    return rejected;
  }
}
