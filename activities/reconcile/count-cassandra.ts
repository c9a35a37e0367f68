// The events of one hour in Cassandra: ecomm_log is partitioned by (day, hour), so an hour is one
// partition, read a page at a time (only its key columns). Cost: the hour's rows, never the table.
import cassandraDriver from 'cassandra-driver';
import type { HourKey } from '../../lib/hdfs-layout.ts';
import { EventKeySet } from '../event-key-set.ts';

const PAGE = 5000;

/**
 * Cassandra's answer when the keyspace or the table is not there (no streaming worker has run its
 * migration yet, or it was dropped): code Invalid (0x2200) with one of these messages.
 */
export function isMissingTable(err: unknown): boolean {
  return (
    err instanceof cassandraDriver.errors.ResponseError &&
    err.code === cassandraDriver.types.responseErrorCodes.invalid &&
    /unconfigured table|keyspace .* does not exist/i.test(err.message)
  );
}

/**
 * The hour's events in Cassandra; a missing keyspace or table holds none, so the hour shows as drift
 * of the Cassandra store (and alerts) instead of failing the batch run after its load and dbt.
 */
export async function countCassandraHour(
  client: cassandraDriver.Client,
  keyspace: string,
  h: HourKey,
): Promise<number> {
  // Rows are keyed by (timestamp, event_id): the same event written with two timestamps would be two
  // rows, so events are counted by (event_type, event_id), as in HDFS.
  const seen = new EventKeySet();
  let pageState: string | undefined;
  do {
    let page: cassandraDriver.types.ResultSet;
    try {
      page = await client.execute(
        `SELECT event_type, event_id FROM ${keyspace}.ecomm_log WHERE day = ? AND hour = ?`,
        [h.dt, h.hour],
        { prepare: true, fetchSize: PAGE, pageState },
      );
    } catch (err) {
      if (isMissingTable(err)) return 0;
      throw err;
    }
    for (const r of page.rows) seen.add(String(r.event_type), String(r.event_id), '');
    pageState = page.pageState ?? undefined;
  } while (pageState);
  return seen.size;
}
