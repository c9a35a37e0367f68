// Writes flattened events to Cassandra: prepared upserts keyed by event_id, run concurrently.
import cassandraDriver from 'cassandra-driver';
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
  const logColumns = ['day', 'hour', 'timestamp', 'event_id', ...flatNames, 'ingested_at'];
  return {
    log: `INSERT INTO ${keyspace}.ecomm_log (${logColumns.join(', ')}) VALUES (${logColumns.map(() => '?').join(', ')})`,
    byUser: `INSERT INTO ${keyspace}.events_by_user (${USER_COLUMNS.join(', ')}) VALUES (${USER_COLUMNS.map(() => '?').join(', ')})`,
    deleteLog: `DELETE FROM ${keyspace}.ecomm_log WHERE day = ? AND hour = ? AND timestamp = ? AND event_id = ?`,
    deleteByUser: `DELETE FROM ${keyspace}.events_by_user WHERE user_id = ? AND timestamp = ? AND event_id = ?`,
  };
}

// A bound null is a tombstone (a deletion marker every read of the partition scans and compaction
// keeps for gc_grace_seconds); a column left unset writes nothing and reads back as null. The
// columns that do not apply to an event's type, and optional ones it lacks, are left unset.
const { unset } = cassandraDriver.types;
const cell = (v: unknown) => (v === null || v === undefined ? unset : v);

/** The parameter lists for one event's rows, in statement order; absent values are unset. */
export function rowParams(e: FlatEvent, ingestedAt: Date): { log: unknown[]; byUser: unknown[] } {
  return {
    log: [e.day, e.hour, e.timestamp, e.event_id, ...flatNames.map((n) => cell(e[n])), ingestedAt],
    byUser: USER_COLUMNS.map((n) => cell(e[n])),
  };
}

/** An event Cassandra refused for what it holds, with the server's (or the driver's) message. */
export interface SinkRejection {
  event: FlatEvent;
  message: string;
}

interface Statement {
  query: string;
  params: unknown[];
  event: FlatEvent;
}

/** Rows per unlogged single-partition batch: well under Cassandra's batch size warning. */
const BATCH_ROWS = 25;

export class CassandraSink {
  private readonly statements;

  constructor(
    private readonly client: cassandraDriver.Client,
    keyspace: string,
    private readonly concurrency: number,
  ) {
    this.statements = cassandraStatements(keyspace);
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

  private send(b: Statement[], logged = false): Promise<unknown> {
    return this.limited(() =>
      b.length === 1
        ? this.client.execute(b[0]?.query as string, b[0]?.params, { prepare: true })
        : this.client.batch(
            b.map(({ query, params }) => ({ query, params })),
            { prepare: true, logged },
          ),
    );
  }

  /**
   * Upserts the events; returns those Cassandra refused for their content (the others are written).
   * Throws only what may succeed later (a node down, a timeout), for the caller to retry.
   */
  async write(events: FlatEvent[]): Promise<SinkRejection[]> {
    if (!events.length) return [];
    const now = new Date();
    // Rows of one partition go together in an unlogged batch: one mutation for Cassandra instead of
    // one request per row. Batches never span partitions (that would cost a coordinator fan-out).
    const groups = new Map<string, Statement[]>();
    const add = (key: string, query: string, params: unknown[], event: FlatEvent) => {
      const g = groups.get(key);
      if (g) g.push({ query, params, event });
      else groups.set(key, [{ query, params, event }]);
    };
    for (const e of events) {
      const p = rowParams(e, now);
      add(`l|${e.day}|${e.hour}`, this.statements.log, p.log, e);
      add(`u|${e.user_id}`, this.statements.byUser, p.byUser, e);
    }
    const batches: Statement[][] = [];
    for (const g of groups.values())
      for (let i = 0; i < g.length; i += BATCH_ROWS) batches.push(g.slice(i, i + BATCH_ROWS));
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
      const p = rowParams(e, now);
      try {
        await this.send(
          [
            { query: this.statements.log, params: p.log, event: e },
            { query: this.statements.byUser, params: p.byUser, event: e },
          ],
          true,
        );
      } catch (err) {
        if (!cassandraRejectsContent(err)) throw err;
        rejected.push({ event: e, message: serverMessage(err) });
      }
    }
    for (const { event: e } of rejected) {
      const deletes: Statement[] = [
        { query: this.statements.deleteLog, params: [e.day, e.hour, e.timestamp, e.event_id], event: e },
        { query: this.statements.deleteByUser, params: [e.user_id, e.timestamp, e.event_id], event: e },
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
