// Shaping of the events store's aggregates (event-counts.ts) into the API's answers.
import type {
  CityGeo,
  CountryGeo,
  ErrorCodeCount,
  OverviewAnswer,
  TimelineAnswer,
  TimelinePoint,
} from './api-types.ts';
import { type Counts, HOUR, MINUTE, mergeInto } from './event-counts.ts';
import type { TimeRange } from './params.ts';

const prefixed = (m: Counts, p: string) =>
  [...m.entries()].filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v] as const);

export const round2 = (x: number) => Math.round(x * 100) / 100;

export function overview(total: Counts): Omit<OverviewAnswer, 'from' | 'to'> {
  return {
    events: total.get('n') ?? 0,
    byType: Object.fromEntries(prefixed(total, 't:').sort()),
    byLevel: Object.fromEntries(prefixed(total, 'l:').sort()),
    revenue: round2(total.get('r') ?? 0),
    errors: total.get('t:error') ?? 0,
    countries: prefixed(total, 'c:').length,
  };
}

export function errorsByCode(total: Counts): ErrorCodeCount[] {
  return prefixed(total, 'e:')
    .map(([error_code, errors]) => ({ error_code, errors }))
    .sort((a, b) => b.errors - a.errors || a.error_code.localeCompare(b.error_code));
}

export function geo(total: Counts): { countries: CountryGeo[]; cities: CityGeo[] } {
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
): Omit<TimelineAnswer, 'from' | 'to'> {
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
    // The keys in the answer's order: t, one per type, then total.
    const point = { t: new Date(b).toISOString() } as TimelinePoint;
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
