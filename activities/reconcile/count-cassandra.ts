// The events of one hour in Cassandra: ecomm_log is partitioned by (day, hour), so an hour is one
// partition, read a page at a time (only its key columns). Cost: the hour's rows, never the table.
import type cassandraDriver from 'cassandra-driver';
import type { HourKey } from '../../lib/hdfs-layout.ts';
import { EventKeySet } from '../event-key-set.ts';

const PAGE = 5000;

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
    const page = await client.execute(
      `SELECT event_type, event_id FROM ${keyspace}.ecomm_log WHERE day = ? AND hour = ?`,
      [h.dt, h.hour],
      { prepare: true, fetchSize: PAGE, pageState },
    );
    for (const r of page.rows) seen.add(String(r.event_type), String(r.event_id), '');
    pageState = page.pageState ?? undefined;
  } while (pageState);
  return seen.size;
}
