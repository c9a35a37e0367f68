// Writes flattened events to Cassandra: prepared upserts keyed by event_id, run concurrently.
import cassandraDriver from 'cassandra-driver';
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

export class CassandraSink {
  private readonly statements;

  constructor(
    private readonly client: cassandraDriver.Client,
    keyspace: string,
    private readonly concurrency: number,
  ) {
    this.statements = cassandraStatements(keyspace);
  }

  async write(events: FlatEvent[]): Promise<void> {
    if (!events.length) return;
    const now = new Date();
    const logParams: unknown[][] = [];
    const userParams: unknown[][] = [];
    for (const e of events) {
      const p = rowParams(e, now);
      logParams.push(p.log);
      userParams.push(p.byUser);
    }
    // executeConcurrent prepares each statement once and keeps `concurrency` requests in flight.
    await Promise.all([
      cassandraDriver.concurrent.executeConcurrent(this.client, this.statements.log, logParams, {
        concurrencyLevel: this.concurrency,
      }),
      cassandraDriver.concurrent.executeConcurrent(this.client, this.statements.byUser, userParams, {
        concurrencyLevel: this.concurrency,
      }),
    ]);
  }
}
