// What `logpipe reconcile` reports for one event hour, and how drift is derived from the counts.
// An event is an (event_type, event_id) pair, as compaction and the raw tables count them; HDFS is
// the reference every other store is compared with. Pure (the workflow's activity and the CLI use it).
import { type HourKey, hourKey } from '../../lib/hdfs-layout.ts';
import type { HourReport, StoreCounts } from '../../lib/reconcile-report.ts';

export type { HourReport, StoreCounts };

/**
 * Drift of each store against HDFS. PostgreSQL owes HDFS's events but the quarantined lines. The
 * marts keep one event per id (fact_events gives an id that two types use to one of them), so they
 * owe PostgreSQL's events less the hour's ids used twice (`postgresIds`: the raw tables' distinct ids).
 */
export function driftOf(c: StoreCounts, postgresIds: number): HourReport['drift'] {
  const sharedIds = c.postgres - postgresIds;
  const owedToWarehouse = c.hdfs - c.quarantined;
  return {
    cassandra: c.hdfs - c.cassandra,
    postgres: owedToWarehouse - c.postgres,
    marts: owedToWarehouse - sharedIds - c.marts,
  };
}

export const hasDrift = (r: HourReport) =>
  r.drift.cassandra !== 0 || r.drift.postgres !== 0 || r.drift.marts !== 0;

const HOUR_MS = 3_600_000;

/** Every hour from the one `since` falls in up to the one `until` falls in, oldest first. */
export function hoursBetween(since: Date, until: Date): HourKey[] {
  const out: HourKey[] = [];
  const first = Math.floor(since.getTime() / HOUR_MS) * HOUR_MS;
  for (let t = first; t <= until.getTime(); t += HOUR_MS) {
    const iso = new Date(t).toISOString();
    out.push({ dt: iso.slice(0, 10), hour: Number(iso.slice(11, 13)) });
  }
  return out;
}

/** The hour key of a date (an hour's first instant, from PostgreSQL's date_trunc). */
export const keyOfInstant = (at: Date) => {
  const iso = at.toISOString();
  return hourKey(iso.slice(0, 10), Number(iso.slice(11, 13)));
};

export const emptyCounts = (): StoreCounts => ({
  hdfs: 0,
  cassandra: 0,
  postgres: 0,
  marts: 0,
  dead_letters: 0,
  quarantined: 0,
});

/** Whether an hour is worth a line: some store holds something of it. */
export const anyCount = (c: StoreCounts) => Object.values(c).some((n) => n !== 0);
