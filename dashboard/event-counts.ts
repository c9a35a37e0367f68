// What the dashboard counts of Cassandra's event rows: one map of sums keyed by dimension, summed
// per minute by the events store and shaped into answers by event-answers.ts.
import type cassandraDriver from 'cassandra-driver';

export const HOUR = 3_600_000;
export const MINUTE = 60_000;

/** Sums keyed by dimension: n, t:<type>, l:<level>, e:<code>, c:<country>, cr:/ce:/co: per country, y:<country>|<city>, yr:/ye:, r. */
export type Counts = Map<string, number>;

/** The columns countRow reads. */
export const COUNTED_COLUMNS =
  'timestamp, event_type, level, geo_country, geo_city, details_amount, error_code';

const add = (m: Counts, k: string, v = 1) => m.set(k, (m.get(k) ?? 0) + v);

export function mergeInto(into: Counts, from: Counts): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
}

export function countRow(m: Counts, r: cassandraDriver.types.Row): void {
  const type = r.event_type as string;
  const country = (r.geo_country as string | null) ?? '?';
  const city = `${country}|${(r.geo_city as string | null) ?? '?'}`;
  add(m, 'n');
  add(m, `t:${type}`);
  add(m, `l:${r.level}`);
  add(m, `c:${country}`);
  add(m, `y:${city}`);
  if (type === 'order_complete') {
    const amount = Number(r.details_amount ?? 0);
    add(m, 'r', amount);
    add(m, `cr:${country}`, amount);
    add(m, `yr:${city}`, amount);
    add(m, `co:${country}`);
  }
  if (type === 'error') {
    add(m, `e:${r.error_code ?? '?'}`);
    add(m, `ce:${country}`);
    add(m, `ye:${city}`);
  }
}
