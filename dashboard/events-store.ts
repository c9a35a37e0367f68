// The dashboard's reads of Cassandra's real-time tables. ecomm_log has no secondary indexes, so
// aggregates are computed by reading each (day, hour) partition of the range once and summing its
// rows per minute; an hour's aggregate is cached (recent hours for 10 s, older ones for 5 min, so
// late events show up) and served stale while one refresh runs, so concurrent requests never
// queue behind a scan. The newest events come from the newest partitions with LIMIT, a user's from
// events_by_user.
import type cassandraDriver from 'cassandra-driver';
import { dayHour } from '../lib/events/flatten.ts';
import type { EventFilter, TimeRange } from './params.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** The current hour is read again after 10 s, the previous hour after a minute, older ones after 5. */
const CURRENT_TTL_MS = 10_000;
const PREVIOUS_TTL_MS = MINUTE;
const OLD_TTL_MS = 5 * MINUTE;
/** Partitions read at once when an aggregate is computed. */
const SCAN_CONCURRENCY = 3;

/** Sums keyed by dimension: n, t:<type>, l:<level>, e:<code>, c:<country>, cr:/ce:/co: per country, y:<country>|<city>, yr:/ye:, r. */
export type Counts = Map<string, number>;

interface HourAgg {
  total: Counts;
  minutes: Map<number, Counts>;
  rows: number;
}

interface CacheEntry {
  value?: HourAgg;
  at: number;
  refreshing?: Promise<HourAgg>;
}

export interface EventRow {
  event_id: string;
  timestamp: string;
  event_type: string;
  level: string;
  service: string;
  user_id: string;
  session_id: string;
  product_id: string;
  device_type: string;
  country: string;
  city: string;
  amount: number | null;
  order_id: string | null;
  query: string | null;
  error_code: string | null;
  message: string | null;
}

const add = (m: Counts, k: string, v = 1) => m.set(k, (m.get(k) ?? 0) + v);

export function mergeInto(into: Counts, from: Counts): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
}

function countRow(m: Counts, r: cassandraDriver.types.Row): void {
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

const AGG_COLUMNS = 'timestamp, event_type, level, geo_country, geo_city, details_amount, error_code';
const ROW_COLUMNS =
  'event_id, timestamp, event_type, level, service, user_id, session_id, product_id, device_type, geo_country, geo_city, details_amount, attempted_amount, details_order_id, details_query, error_code, message';

export function toEventRow(r: cassandraDriver.types.Row): EventRow {
  return {
    event_id: r.event_id,
    timestamp: (r.timestamp as Date).toISOString(),
    event_type: r.event_type,
    level: r.level,
    service: r.service ?? null,
    user_id: r.user_id,
    session_id: r.session_id,
    product_id: r.product_id,
    device_type: r.device_type ?? null,
    country: r.geo_country,
    city: r.geo_city,
    amount: r.details_amount ?? r.attempted_amount ?? null,
    order_id: r.details_order_id ?? null,
    query: r.details_query ?? null,
    error_code: r.error_code ?? null,
    message: r.message ?? null,
  };
}

export function matches(e: EventRow, f: Omit<EventFilter, 'from' | 'to' | 'limit'>): boolean {
  if (f.type && e.event_type !== f.type) return false;
  if (f.level && e.level !== f.level) return false;
  if (f.country && e.country !== f.country) return false;
  if (f.user && e.user_id !== f.user) return false;
  if (f.q) {
    const hay = [e.event_id, e.user_id, e.session_id, e.product_id, e.city, e.country, e.query, e.message]
      .concat([e.error_code, e.order_id, e.event_type])
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    if (!hay.includes(f.q)) return false;
  }
  return true;
}

/** The hour partitions a range touches, newest first. */
export function hoursOf(range: TimeRange): number[] {
  const out: number[] = [];
  const first = Math.floor(range.from.getTime() / HOUR) * HOUR;
  for (let h = Math.floor((range.to.getTime() - 1) / HOUR) * HOUR; h >= first; h -= HOUR) out.push(h);
  return out;
}

export class EventsStore {
  private readonly cache = new Map<number, CacheEntry>();
  private readonly ks: string;

  constructor(
    private readonly client: cassandraDriver.Client,
    keyspace: string,
  ) {
    this.ks = keyspace;
  }

  private async scanHour(hourStart: number): Promise<HourAgg> {
    const { day, hour } = dayHour(new Date(hourStart));
    const agg: HourAgg = { total: new Map(), minutes: new Map(), rows: 0 };
    let pageState: string | undefined;
    do {
      const rs = await this.client.execute(
        `SELECT ${AGG_COLUMNS} FROM ${this.ks}.ecomm_log WHERE day = ? AND hour = ?`,
        [day, hour],
        { prepare: true, fetchSize: 5000, pageState },
      );
      for (const r of rs.rows) {
        const minute = Math.floor((r.timestamp as Date).getTime() / MINUTE) * MINUTE;
        let m = agg.minutes.get(minute);
        if (!m) {
          m = new Map();
          agg.minutes.set(minute, m);
        }
        countRow(m, r);
        agg.rows++;
      }
      pageState = rs.pageState;
    } while (pageState);
    for (const m of agg.minutes.values()) mergeInto(agg.total, m);
    return agg;
  }

  /** An hour's aggregate: cached, refreshed after its TTL while the stale one keeps being served. */
  private hourAgg(hourStart: number, now: number): Promise<HourAgg> | HourAgg {
    const ttl =
      hourStart + HOUR > now ? CURRENT_TTL_MS : hourStart + 2 * HOUR > now ? PREVIOUS_TTL_MS : OLD_TTL_MS;
    let entry = this.cache.get(hourStart);
    if (!entry) {
      entry = { at: 0 };
      this.cache.set(hourStart, entry);
    }
    const e = entry;
    if (e.value && now - e.at < ttl) return e.value;
    if (!e.refreshing) {
      const started = Date.now();
      e.refreshing = this.scanHour(hourStart)
        .then((v) => {
          e.value = v;
          e.at = started;
          return v;
        })
        .finally(() => {
          e.refreshing = undefined;
        });
    }
    if (e.value) {
      e.refreshing.catch(() => {});
      return e.value;
    }
    return e.refreshing;
  }

  /** Forgets every cached aggregate (tests and the bench's cold measurements). */
  clear(): void {
    this.cache.clear();
  }

  /** Aggregates of a range at minute resolution: whole hours from their totals, edge hours by minute. */
  async counts(
    range: TimeRange,
  ): Promise<{ total: Counts; minutes: Map<number, Counts>; hourTotals: Map<number, Counts> }> {
    const now = Date.now();
    const hours = hoursOf(range);
    const aggs: HourAgg[] = new Array(hours.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(SCAN_CONCURRENCY, hours.length) }, async () => {
        while (next < hours.length) {
          const i = next++;
          aggs[i] = await this.hourAgg(hours[i] as number, now);
        }
      }),
    );
    const from = Math.floor(range.from.getTime() / MINUTE) * MINUTE;
    const to = range.to.getTime();
    const total: Counts = new Map();
    const minutes = new Map<number, Counts>();
    const hourTotals = new Map<number, Counts>();
    hours.forEach((h, i) => {
      const agg = aggs[i] as HourAgg;
      const whole = h >= from && h + HOUR <= to;
      if (whole) {
        mergeInto(total, agg.total);
        hourTotals.set(h, agg.total);
      }
      for (const [m, c] of agg.minutes) {
        if (m < from || m >= to) continue;
        minutes.set(m, c);
        if (!whole) mergeInto(total, c);
      }
    });
    return { total, minutes, hourTotals };
  }

  /** The newest events matching the filter, newest first. */
  async recent(f: EventFilter): Promise<{ events: EventRow[]; scanned: number }> {
    const out: EventRow[] = [];
    let scanned = 0;
    const MAX_SCAN = 50_000;
    if (f.user) {
      // events_by_user has the user's recent events; the full rows come from ecomm_log.
      const rs = await this.client.execute(
        `SELECT timestamp, event_id FROM ${this.ks}.events_by_user WHERE user_id = ? AND timestamp >= ? AND timestamp < ? LIMIT 2000`,
        [f.user, f.from, f.to],
        { prepare: true },
      );
      // The full rows come from ecomm_log by primary key, ten at a time, until enough match.
      const keys = rs.rows;
      for (let i = 0; i < keys.length && out.length < f.limit; i += 10) {
        const rows = await Promise.all(
          keys.slice(i, i + 10).map(async (r) => {
            const at = r.timestamp as Date;
            const { day, hour } = dayHour(at);
            const full = await this.client.execute(
              `SELECT ${ROW_COLUMNS} FROM ${this.ks}.ecomm_log WHERE day = ? AND hour = ? AND timestamp = ? AND event_id = ?`,
              [day, hour, at, r.event_id],
              { prepare: true },
            );
            return full.rows[0];
          }),
        );
        for (const row of rows) {
          scanned++;
          if (!row) continue;
          const e = toEventRow(row);
          if (matches(e, f) && out.length < f.limit) out.push(e);
        }
      }
      return { events: out, scanned };
    }
    const plain = !f.type && !f.level && !f.country && !f.q;
    // Filters on type, level and country read only those columns (and the key); the full rows of
    // the matches are then read by primary key. Free text needs the text columns: full rows.
    const narrow = !plain && !f.q;
    const columns = narrow ? 'day, hour, timestamp, event_id, event_type, level, geo_country' : ROW_COLUMNS;
    const keys: cassandraDriver.types.Row[] = [];
    scan: for (const h of hoursOf(f)) {
      const { day, hour } = dayHour(new Date(h));
      let pageState: string | undefined;
      do {
        const rs = await this.client.execute(
          `SELECT ${columns} FROM ${this.ks}.ecomm_log WHERE day = ? AND hour = ? AND timestamp >= ? AND timestamp < ?${plain ? ' LIMIT ?' : ''}`,
          plain ? [day, hour, f.from, f.to, f.limit - out.length] : [day, hour, f.from, f.to],
          { prepare: true, fetchSize: plain ? f.limit : 5000, pageState },
        );
        for (const r of rs.rows) {
          scanned++;
          if (narrow) {
            if (
              (!f.type || r.event_type === f.type) &&
              (!f.level || r.level === f.level) &&
              (!f.country || r.geo_country === f.country)
            )
              keys.push(r);
            if (keys.length >= f.limit) break scan;
            continue;
          }
          const e = toEventRow(r);
          if (matches(e, f)) out.push(e);
          if (out.length >= f.limit) return { events: out, scanned };
        }
        pageState = plain ? undefined : rs.pageState;
      } while (pageState && scanned < MAX_SCAN);
      if (scanned >= MAX_SCAN) break;
    }
    for (let i = 0; i < keys.length; i += 20) {
      const rows = await Promise.all(
        keys.slice(i, i + 20).map(async (k) => {
          const full = await this.client.execute(
            `SELECT ${ROW_COLUMNS} FROM ${this.ks}.ecomm_log WHERE day = ? AND hour = ? AND timestamp = ? AND event_id = ?`,
            [k.day, k.hour, k.timestamp, k.event_id],
            { prepare: true },
          );
          return full.rows[0];
        }),
      );
      for (const row of rows) if (row) out.push(toEventRow(row));
    }
    return { events: out, scanned };
  }

  /** Events with a timestamp after `since` in the partitions of the last `windowMs` (the live tail). */
  async since(since: Date, now: Date): Promise<EventRow[]> {
    const out: EventRow[] = [];
    for (const h of hoursOf({ from: since, to: new Date(now.getTime() + MINUTE) })) {
      const { day, hour } = dayHour(new Date(h));
      const rs = await this.client.execute(
        `SELECT ${ROW_COLUMNS} FROM ${this.ks}.ecomm_log WHERE day = ? AND hour = ? AND timestamp > ? LIMIT 1000`,
        [day, hour, since],
        { prepare: true },
      );
      out.push(...rs.rows.map(toEventRow));
    }
    return out;
  }
}

// Shaping of aggregates into the API's answers.

const prefixed = (m: Counts, p: string) =>
  [...m.entries()].filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v] as const);

export const round2 = (x: number) => Math.round(x * 100) / 100;

export function overview(total: Counts) {
  return {
    events: total.get('n') ?? 0,
    byType: Object.fromEntries(prefixed(total, 't:').sort()),
    byLevel: Object.fromEntries(prefixed(total, 'l:').sort()),
    revenue: round2(total.get('r') ?? 0),
    errors: total.get('t:error') ?? 0,
    countries: prefixed(total, 'c:').length,
  };
}

export function errorsByCode(total: Counts) {
  return prefixed(total, 'e:')
    .map(([error_code, errors]) => ({ error_code, errors }))
    .sort((a, b) => b.errors - a.errors || a.error_code.localeCompare(b.error_code));
}

export function geo(total: Counts) {
  const countries = prefixed(total, 'c:')
    .map(([country, events]) => ({
      country,
      events,
      revenue: round2(total.get(`cr:${country}`) ?? 0),
      orders_completed: total.get(`co:${country}`) ?? 0,
      errors: total.get(`ce:${country}`) ?? 0,
    }))
    .sort((a, b) => b.events - a.events || a.country.localeCompare(b.country));
  const cities = prefixed(total, 'y:')
    .map(([key, events]) => {
      const [country, city] = key.split('|') as [string, string];
      return {
        country,
        city,
        events,
        revenue: round2(total.get(`yr:${key}`) ?? 0),
        errors: total.get(`ye:${key}`) ?? 0,
      };
    })
    .sort((a, b) => b.events - a.events || a.city.localeCompare(b.city));
  return { countries, cities };
}

/** Events per type per bucket: minutes for ranges up to 6 h, hours beyond (whole hours from their totals). */
export function timeline(
  counts: { minutes: Map<number, Counts>; hourTotals: Map<number, Counts> },
  range: TimeRange,
  types: readonly string[],
) {
  const span = range.to.getTime() - range.from.getTime();
  const bucketMs = span <= 6 * HOUR ? MINUTE : HOUR;
  const buckets = new Map<number, Counts>();
  if (bucketMs === HOUR) for (const [h, c] of counts.hourTotals) buckets.set(h, c);
  for (const [m, c] of counts.minutes) {
    const b = Math.floor(m / bucketMs) * bucketMs;
    if (bucketMs === HOUR && counts.hourTotals.has(b)) continue;
    let into = buckets.get(b);
    if (!into) {
      into = new Map();
      buckets.set(b, into);
    }
    mergeInto(into, c);
  }
  const points = [];
  const first = Math.floor(range.from.getTime() / bucketMs) * bucketMs;
  for (let b = first; b < range.to.getTime(); b += bucketMs) {
    const c = buckets.get(b);
    const point: Record<string, number | string> = { t: new Date(b).toISOString() };
    let sum = 0;
    for (const t of types) {
      const v = c?.get(`t:${t}`) ?? 0;
      point[t] = v;
      sum += v;
    }
    point.total = sum;
    points.push(point);
  }
  return { bucket: bucketMs === MINUTE ? 'minute' : 'hour', types, points };
}
