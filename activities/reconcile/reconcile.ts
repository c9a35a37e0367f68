// `logpipe reconcile`: per event hour of a window, the events each store holds and each store's
// drift against HDFS (see hour-counts.ts). Each count reads only its hour: a compaction record or
// the hour's files in HDFS, one partition in Cassandra, index ranges in PostgreSQL, the window of
// the dead-letter topic from Kafka's time index. So a reconcile costs the window's events, however
// large the stores grow.
import type cassandraDriver from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { HdfsStore } from '../../lib/clients/hdfs.ts';
import { type Config, dlqTopic } from '../../lib/config.ts';
import { type HourKey, hourClosedBefore, hourKey, hourStartMs } from '../../lib/hdfs-layout.ts';
import { countCassandraHour } from './count-cassandra.ts';
import { countDeadLetters } from './count-dead-letters.ts';
import { countHdfsHour } from './count-hdfs.ts';
import { countWarehouseHours } from './count-warehouse.ts';
import { anyCount, driftOf, type HourReport, hoursBetween } from './hour-counts.ts';

export interface ReconcileDeps {
  config: Config;
  pool: pg.Pool;
  hdfs: HdfsStore;
  cassandra: cassandraDriver.Client;
  kafka: Kafka;
}

const HOUR_MS = 3_600_000;

/**
 * The report of every hour in `hours` (or, without it, of every hour from `since` to now) that
 * some store holds anything of, oldest first.
 */
export async function reconcile(
  deps: ReconcileDeps,
  opts: { since?: Date; hours?: HourKey[]; now?: Date } = {},
): Promise<HourReport[]> {
  const { config, pool, hdfs, cassandra, kafka } = deps;
  const now = opts.now ?? new Date();
  const hours = opts.hours
    ? [...opts.hours].sort((a, b) => hourStartMs(a.dt, a.hour) - hourStartMs(b.dt, b.hour))
    : hoursBetween(opts.since ?? new Date(now.getTime() - 24 * HOUR_MS), now);
  if (!hours.length) return [];
  const first = hours[0] as HourKey;
  const last = hours[hours.length - 1] as HourKey;
  const since = new Date(hourStartMs(first.dt, first.hour));
  const until = new Date(hourStartMs(last.dt, last.hour) + HOUR_MS);
  const warehouse = await countWarehouseHours(
    pool,
    { raw: config.WAREHOUSE_RAW_SCHEMA, marts: config.WAREHOUSE_SCHEMA },
    since,
    until,
  );
  const deadLetters = await countDeadLetters(kafka, dlqTopic(config), since, until);
  const closedBefore = now.getTime() - config.COMPACT_GRACE_MINUTES * 60_000;
  const roots = {
    rawRoot: config.HDFS_RAW_ROOT,
    compactedRoot: config.HDFS_COMPACTED_ROOT,
    topic: config.KAFKA_TOPIC,
    rawSchema: config.WAREHOUSE_RAW_SCHEMA,
  };
  const reports: HourReport[] = [];
  for (const h of hours) {
    const key = hourKey(h.dt, h.hour);
    const inHdfs = await countHdfsHour(hdfs, pool, roots, h);
    const w = warehouse.get(key);
    const counts = {
      hdfs: inHdfs.events,
      cassandra: await countCassandraHour(cassandra, config.CASSANDRA_KEYSPACE, h),
      postgres: w?.postgres ?? 0,
      marts: w?.marts ?? 0,
      dead_letters: deadLetters.get(key) ?? 0,
      quarantined: w?.quarantined ?? 0,
    };
    if (!anyCount(counts)) continue;
    reports.push({
      hour: key,
      closed: hourClosedBefore(h, closedBefore) && inHdfs.rawFiles === 0,
      counts,
      drift: driftOf(counts, w?.postgresIds ?? 0),
    });
  }
  return reports;
}
