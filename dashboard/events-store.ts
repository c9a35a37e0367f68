// The dashboard's reads of Cassandra's real-time tables. ecomm_log has no secondary indexes, so
// aggregates are computed by reading each (day, hour) partition of the range once and summing its
// rows per minute; an hour's aggregate is cached (recent hours for 10 s, older ones for 5 min, so
// late events show up) and served stale while one refresh runs, so concurrent requests never
// queue behind a scan. The newest events come from the newest partitions with LIMIT, a user's from
// events_by_user.
import type cassandraDriver from 'cassandra-driver';
import { dayHour } from '../lib/events/flatten.ts';
import type { EventRow } from './api-types.ts';
import { COUNTED_COLUMNS, type Counts, countRow, HOUR, MINUTE, mergeInto } from './event-counts.ts';
import type { EventFilter, TimeRange } from './params.ts';
import { SwrCache } from './swr.ts';

/** The current hour is read again after 10 s, the previous hour after a minute, older ones after 5. */
const CURRENT_TTL_MS = 10_000;
const PREVIOUS_TTL_MS = MINUTE;
const OLD_TTL_MS = 5 * MINUTE;
/** Hour aggregates kept: the widest range (31 days, 744 hours) several times over. */
const MAX_CACHED_HOURS = 4000;
/** Partitions read at once when an aggregate is computed. */
const SCAN_CONCURRENCY = 3;

interface HourAgg {
  total: Counts;
  minutes: Map<number, Counts>;
  rows: number;
}

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
  // A stale aggregate is served for as long as its refresh takes (no upper bound on staleness).
  private readonly cache = new SwrCache<HourAgg>(OLD_TTL_MS, Number.POSITIVE_INFINITY, MAX_CACHED_HOURS);
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
        `SELECT ${COUNTED_COLUMNS} FROM ${this.ks}.ecomm_log WHERE day = ? AND hour = ?`,
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
  private hourAgg(hourStart: number, now: number): Promise<HourAgg> {
    const ttl =
      hourStart + HOUR > now ? CURRENT_TTL_MS : hourStart + 2 * HOUR > now ? PREVIOUS_TTL_MS : OLD_TTL_MS;
    return this.cache.get(String(hourStart), () => this.scanHour(hourStart), ttl);
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
