// The real-time store's schema, applied by an idempotent migration at worker startup.
// ecomm_log keeps the original's flattened columns plus event_id, partitioned by (day, hour) so
// partitions stay bounded and the newest events come back from one partition range; rows are
// upserted by event_id, so a batch written twice changes nothing (counts derived from it included).
import type cassandraDriver from 'cassandra-driver';

export const FLAT_COLUMNS = [
  'user_id text',
  'session_id text',
  'product_id text',
  'event_type text',
  'level text',
  'service text',
  'session_duration double',
  'device_type text',
  'geo_country text',
  'geo_city text',
  'details_amount double',
  'details_payment_method text',
  'details_items text',
  'details_order_id text',
  'details_query text',
  'details_results_count int',
  'details_shipping_method text',
  'details_delivery_estimate text',
  'details_completed_at text',
  'details_shipping_address text',
  'error_code text',
  'message text',
  'error_at text',
  'attempted_amount double',
  'failed_at text',
];

export interface KeyspaceReplication {
  replicationFactor: number;
  localDc: string;
}

/** SimpleStrategy with one replica on a single node; NetworkTopologyStrategy in a cluster. */
export function replicationOf(
  r: KeyspaceReplication = { replicationFactor: 1, localDc: 'datacenter1' },
): string {
  return r.replicationFactor === 1
    ? `{'class': 'SimpleStrategy', 'replication_factor': 1}`
    : `{'class': 'NetworkTopologyStrategy', '${r.localDc}': ${r.replicationFactor}}`;
}

export function migrations(keyspace: string, replication?: KeyspaceReplication): string[] {
  return [
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replicationOf(replication)}`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.ecomm_log (
      day text, hour int, timestamp timestamp, event_id text,
      ${FLAT_COLUMNS.join(',\n      ')},
      ingested_at timestamp,
      PRIMARY KEY ((day, hour), timestamp, event_id)
    ) WITH CLUSTERING ORDER BY (timestamp DESC, event_id ASC)`,
    // A user's recent events, newest first.
    `CREATE TABLE IF NOT EXISTS ${keyspace}.events_by_user (
      user_id text, timestamp timestamp, event_id text,
      event_type text, level text, session_id text, product_id text, geo_country text, geo_city text, details_amount double,
      PRIMARY KEY ((user_id), timestamp, event_id)
    ) WITH CLUSTERING ORDER BY (timestamp DESC, event_id ASC)`,
  ];
}

export async function migrate(
  client: cassandraDriver.Client,
  keyspace: string,
  replication?: KeyspaceReplication,
): Promise<void> {
  for (const cql of migrations(keyspace, replication)) await client.execute(cql);
}
