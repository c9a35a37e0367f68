// The cassandra-driver client, configured from the environment.
import cassandraDriver from 'cassandra-driver';
import type { Config } from '../config.ts';

export function createCassandra(
  config: Pick<Config, 'CASSANDRA_CONTACT_POINTS' | 'CASSANDRA_PORT' | 'CASSANDRA_LOCAL_DC'>,
  keyspace?: string,
): cassandraDriver.Client {
  return new cassandraDriver.Client({
    contactPoints: config.CASSANDRA_CONTACT_POINTS,
    protocolOptions: { port: config.CASSANDRA_PORT },
    localDataCenter: config.CASSANDRA_LOCAL_DC,
    keyspace,
    socketOptions: { connectTimeout: 5000, readTimeout: 12_000 },
  });
}
