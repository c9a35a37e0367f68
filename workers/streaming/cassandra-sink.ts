// Writes flattened events to Cassandra: prepared upserts keyed by event_id, run concurrently.
import type cassandraDriver from 'cassandra-driver';
import type { FlatEvent } from '../../lib/events/flatten.ts';
import { FLAT_COLUMNS } from './cassandra-schema.ts';

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
  };
}

/** The parameter lists for one event's rows, in statement order. */
export function rowParams(e: FlatEvent, ingestedAt: Date): { log: unknown[]; byUser: unknown[] } {
  return {
    log: [e.day, e.hour, e.timestamp, e.event_id, ...flatNames.map((n) => e[n]), ingestedAt],
    byUser: USER_COLUMNS.map((n) => e[n]),
  };
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

  async write(events: FlatEvent[]): Promise<void> {
    if (!events.length) return;
    const now = new Date();
    // Rows of one partition go together in an unlogged batch: one mutation for Cassandra instead of
    // one request per row. Batches never span partitions (that would cost a coordinator fan-out).
    const groups = new Map<string, { query: string; params: unknown }[]>();
    const add = (key: string, query: string, params: unknown[]) => {
      const g = groups.get(key);
      if (g) g.push({ query, params });
      else groups.set(key, [{ query, params }]);
    };
    for (const e of events) {
      const p = rowParams(e, now);
      add(`l|${e.day}|${e.hour}`, this.statements.log, p.log);
      add(`u|${e.user_id}`, this.statements.byUser, p.byUser);
    }
    const batches: { query: string; params: unknown }[][] = [];
    for (const g of groups.values())
      for (let i = 0; i < g.length; i += BATCH_ROWS) batches.push(g.slice(i, i + BATCH_ROWS));
    await Promise.all(
      batches.map((b) =>
        this.limited(() =>
          b.length === 1
            ? this.client.execute(b[0]?.query as string, b[0]?.params as unknown[], { prepare: true })
            : this.client.batch(b as { query: string; params: unknown[] }[], {
                prepare: true,
                logged: false,
              }),
        ),
      ),
    );
  }
}
