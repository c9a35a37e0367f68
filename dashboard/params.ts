// Query parameters of the JSON API, validated with zod: a bad value is a 400 naming the parameter,
// never a database error.
import { z } from 'zod';
import { EVENT_TYPES, LEVELS } from '../lib/events/enums.ts';

export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

export const RANGES = { '15m': 15, '1h': 60, '6h': 360, '24h': 1440, '7d': 10_080, '30d': 43_200 } as const;
export type RangeName = keyof typeof RANGES;
export const MAX_SPAN_MS = 31 * 86_400_000;
export { EVENT_TYPES, LEVELS };

const isoTime = (name: string) =>
  z
    .string()
    .trim()
    .refine((s) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(s), {
      message: `${name}: expected an ISO 8601 date or time, e.g. 2026-01-02 or 2026-01-02T10:00:00Z`,
    })
    .transform((s) => new Date(/T/.test(s) && !/(Z|[+-]\d{2}:\d{2})$/.test(s) ? `${s}Z` : s))
    .refine((d) => !Number.isNaN(d.getTime()), { message: `${name}: not a valid date` });

const rangeFields = {
  range: z
    .enum(Object.keys(RANGES) as [RangeName, ...RangeName[]], {
      message: `range: expected one of ${Object.keys(RANGES).join(', ')}`,
    })
    .optional(),
  from: isoTime('from').optional(),
  to: isoTime('to').optional(),
};

export interface TimeRange {
  from: Date;
  to: Date;
}

/** from/to win over range; the default is the last `fallback`. */
function toRange(
  v: { range?: RangeName; from?: Date; to?: Date },
  fallback: RangeName,
  now = Date.now(),
): TimeRange {
  const to = v.to ?? new Date(now);
  const from = v.from ?? new Date(to.getTime() - RANGES[v.range ?? fallback] * 60_000);
  if (from.getTime() >= to.getTime()) throw new BadRequest('from: must be before to');
  if (to.getTime() - from.getTime() > MAX_SPAN_MS) throw new BadRequest('from/to: at most 31 days apart');
  if (to.getTime() > now + 86_400_000) throw new BadRequest('to: more than a day in the future');
  return { from, to };
}

const limit = (max: number, dflt: number) =>
  z.coerce
    .number({ message: `limit: expected a whole number from 1 to ${max}` })
    .int(`limit: expected a whole number from 1 to ${max}`)
    .min(1, `limit: expected a whole number from 1 to ${max}`)
    .max(max, `limit: expected a whole number from 1 to ${max}`)
    .default(dflt);

const text = (name: string, max: number, re: RegExp, form: string) =>
  z
    .string()
    .trim()
    .max(max, `${name}: at most ${max} characters`)
    .refine((s) => re.test(s), { message: `${name}: expected ${form}` })
    .optional()
    .transform((s) => (s === '' ? undefined : s));

const eventFilterFields = {
  ...rangeFields,
  type: z.enum(EVENT_TYPES, { message: `type: expected one of ${EVENT_TYPES.join(', ')}` }).optional(),
  level: z.enum(LEVELS, { message: `level: expected one of ${LEVELS.join(', ')}` }).optional(),
  country: text('country', 8, /^[A-Za-z]{0,8}$/, 'a country code such as US'),
  user: text('user', 64, /^[A-Za-z0-9_.:-]*$/, 'a user id such as user_0042'),
  q: z.string().max(100, 'q: at most 100 characters').optional(),
  limit: limit(500, 100),
};

function parse<T extends z.ZodRawShape>(shape: T, query: URLSearchParams) {
  const known = new Set(Object.keys(shape));
  for (const k of query.keys()) {
    if (!known.has(k)) throw new BadRequest(`${k}: unknown parameter (expected ${[...known].join(', ')})`);
  }
  const input: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k in input) throw new BadRequest(`${k}: given more than once`);
    input[k] = v;
  }
  const parsed = z.object(shape).safeParse(input);
  if (!parsed.success) throw new BadRequest(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

export function rangeParams(query: URLSearchParams, fallback: RangeName = '24h'): TimeRange {
  return toRange(parse(rangeFields, query), fallback);
}

export interface EventFilter extends TimeRange {
  type?: (typeof EVENT_TYPES)[number];
  level?: (typeof LEVELS)[number];
  country?: string;
  user?: string;
  q?: string;
  limit: number;
}

export function eventFilterParams(query: URLSearchParams): EventFilter {
  const v = parse(eventFilterFields, query);
  const q = v.q?.trim().toLowerCase();
  return {
    ...toRange(v, '24h'),
    type: v.type,
    level: v.level,
    country: v.country?.toUpperCase(),
    user: v.user,
    q: q || undefined,
    limit: v.limit,
  };
}

export function limitParams(query: URLSearchParams, max: number, dflt: number): { limit: number } {
  return parse({ limit: limit(max, dflt) }, query);
}

export function rangeLimitParams(
  query: URLSearchParams,
  fallback: RangeName,
  max: number,
  dflt: number,
): TimeRange & { limit: number } {
  const v = parse({ ...rangeFields, limit: limit(max, dflt) }, query);
  return { ...toRange(v, fallback), limit: v.limit };
}

export function noParams(query: URLSearchParams): void {
  parse({}, query);
}
