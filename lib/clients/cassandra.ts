// The cassandra-driver client, configured from the environment.
import cassandraDriver from 'cassandra-driver';
import type { Config } from '../config.ts';

export function createCassandra(
  config: Pick<Config, 'CASSANDRA_CONTACT_POINTS' | 'CASSANDRA_PORT' | 'CASSANDRA_LOCAL_DC'> &
    Partial<Pick<Config, 'CASSANDRA_REPLICATION_FACTOR'>>,
  keyspace?: string,
): cassandraDriver.Client {
  const { consistencies } = cassandraDriver.types;
  return new cassandraDriver.Client({
    contactPoints: config.CASSANDRA_CONTACT_POINTS,
    protocolOptions: { port: config.CASSANDRA_PORT },
    localDataCenter: config.CASSANDRA_LOCAL_DC,
    keyspace,
    socketOptions: { connectTimeout: 5000, readTimeout: 12_000 },
    // A node that went down is tried again every 10 s at most. The driver's default backs off to
    // 10 minutes: after an outage of a minute, the streaming worker stayed paused for another
    // minute with Cassandra back, and longer after longer outages.
    policies: {
      reconnection: new cassandraDriver.policies.reconnection.ExponentialReconnectionPolicy(
        500,
        10_000,
        false,
      ),
    },
    // With replicas, a write counts once most of them have it, so one node can fail.
    queryOptions: {
      consistency:
        (config.CASSANDRA_REPLICATION_FACTOR ?? 1) > 1 ? consistencies.localQuorum : consistencies.localOne,
    },
  });
}
