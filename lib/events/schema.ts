// The event contract: one zod schema shared by the producer, the streaming worker, the loaders and
// the tests. A discriminated union on event_type with the original system's five types. Unknown
// extra fields are accepted (loose objects) and kept in the raw copy.
import { z } from 'zod';
import { DEVICE_TYPES, LEVELS, PAYMENT_METHODS, SHIPPING_METHODS } from './enums.ts';

export const SCHEMA_VERSION = 1;

// Bounds of what the stores hold, so an accepted event can always be written (issue: poison pills):
// PostgreSQL refuses NUL in text and jsonb and lone UTF-16 surrogates in jsonb, `int` is 32 bits,
// numeric(14,2) holds less than 10^12, timestamptz has years 0001-9999 and offsets up to ±15:59,
// and a btree row (the event_id key) must stay far below 2,704 bytes.
export const INT32_MAX = 2_147_483_647;
export const AMOUNT_LIMIT = 1e12;
export const MAX_ID_LENGTH = 128;

/** Why PostgreSQL or Cassandra could not store this string, or undefined when they can. */
export function unstorableString(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain a NUL character (U+0000)';
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s))
    return 'must not contain a lone UTF-16 surrogate';
  return undefined;
}

const storable = (schema: z.ZodString) =>
  schema.superRefine((s, ctx) => {
    const why = unstorableString(s);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });
// One string schema with its checks in order (storable, then trimmed, then non-empty) rather than
// a pipe of two: the same values pass, the same first issue is reported, at less cost per field.
const text = storable(z.string()).trim().min(1, 'must be non-empty text');
const anyText = storable(z.string());
const id = text.pipe(z.string().max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`));
const int32 = (min: number) =>
  z
    .number()
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(INT32_MAX, `must be at most ${INT32_MAX} (a 32-bit integer)`);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (y: number, m: number) =>
  m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : (DAYS_IN_MONTH[m - 1] ?? 0);
/** Whether a YYYY-MM-DD date exists (Date.parse rolls 2026-02-30 over to March instead). */
function realDate(y: number, m: number, d: number): boolean {
  return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m);
}

/** Whether a date and a time of day (no leap second) exist. */
function realDateTime(y: number, mo: number, d: number, h: number, mi: number, sec: number): boolean {
  return realDate(y, mo, d) && h <= 23 && mi <= 59 && sec <= 59;
}

/** The number written by `n` ASCII digits of `s` from `at`, or -1 when one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The verdict on `YYYY-MM-DDTHH:MM:SS.sssZ` (what toISOString() writes, so what the producer and
 * the worker write) read by its character codes, or undefined for any other shape. It is the
 * regular expression's verdict below without its allocations; Date.parse accepts every such
 * instant whose fields are in range.
 */
function canonicalInstant(s: string): boolean | undefined {
  if (s.length !== 24 || s.charCodeAt(23) !== 90) return undefined; // Z
  // - - T : : .
  if (
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 46
  )
    return undefined;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || digits(s, 20, 3) < 0) return undefined;
  return realDateTime(y, mo, d, h, mi, sec);
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):?(\d{2}))$/;
/** An ISO-8601 instant with a zone that every store reads back as the same instant. */
export function validTimestamp(s: string): boolean {
  const canonical = canonicalInstant(s);
  if (canonical !== undefined) return canonical;
  const m = TIMESTAMP.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, sec, , oh, om] = m;
  if (!realDateTime(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(sec ?? 0))) return false;
  if (oh !== undefined && (Number(oh) > 15 || Number(om) > 59)) return false;
  return !Number.isNaN(Date.parse(s));
}

const DATE_PREFIX = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/;
/** A calendar date, or a date-time (with or without a zone) whose date part exists. */
export function validDateOrTimestamp(s: string): boolean {
  const m = DATE_PREFIX.exec(s);
  if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
  if (s.length === 10) return true;
  return /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-](0\d|1[0-5]):?[0-5]\d)?$/.test(
    s,
  );
}

const isoTimestamp = z.string().refine(validTimestamp, {
  message:
    'must be an ISO-8601 timestamp with a time zone that exists, e.g. 2026-01-02T03:04:05Z (years 0001-9999, offsets up to ±15:59)',
});
const isoDateOrTimestamp = z.string().refine(validDateOrTimestamp, {
  message: 'must be an ISO-8601 date or timestamp that exists, e.g. 2026-01-02',
});
const money = z
  .number()
  .finite()
  .nonnegative('must not be negative')
  .lt(AMOUNT_LIMIT, `must be less than ${AMOUNT_LIMIT} (numeric(14,2))`)
  // numeric(14,2) rounds to cents first: 999999999999.996 would become 10^12 and overflow.
  .refine((v) => Math.round(v * 100) < AMOUNT_LIMIT * 100, {
    message: `must round to less than ${AMOUNT_LIMIT} at two decimals (numeric(14,2))`,
  });

export const itemSchema = z.looseObject({
  product_id: text,
  quantity: int32(1),
});

const common = {
  event_id: id.optional(),
  schema_version: int32(1).optional(),
  timestamp: isoTimestamp,
  level: z.enum(LEVELS),
  service: text,
  user_id: text,
  session_id: text,
  product_id: text,
  session_duration: z.number().finite().nonnegative().lt(1e15, 'must be less than 10^15 seconds'),
  device_type: z.enum(DEVICE_TYPES),
  geo_location: z.looseObject({ country: text, city: text }),
};

export const searchEventSchema = z.looseObject({
  ...common,
  event_type: z.literal('search'),
  details: z.looseObject({
    query: anyText,
    results_count: int32(0),
    filters: z.record(z.string(), z.unknown()),
    searched_at: isoTimestamp,
  }),
});

export const purchaseEventSchema = z.looseObject({
  ...common,
  event_type: z.literal('purchase'),
  details: z.looseObject({
    amount: money,
    payment_method: z.enum(PAYMENT_METHODS),
    items: z.array(itemSchema).min(1, 'must list at least one item'),
    shipping_address: text,
    order_id: text.optional(),
  }),
});

export const orderCompleteEventSchema = z.looseObject({
  ...common,
  event_type: z.literal('order_complete'),
  details: z.looseObject({
    order_id: text,
    amount: money,
    items: z.array(itemSchema).min(1, 'must list at least one item'),
    shipping_method: z.enum(SHIPPING_METHODS),
    delivery_estimate: isoDateOrTimestamp,
    completed_at: isoTimestamp,
    // The original generator never set it on order events; logpipe's always does.
    payment_method: z.enum(PAYMENT_METHODS).optional(),
  }),
});

export const orderFailedEventSchema = z.looseObject({
  ...common,
  event_type: z.literal('order_failed'),
  details: z.looseObject({
    order_id: text,
    attempted_amount: money,
    failed_at: isoTimestamp,
    payment_method: z.enum(PAYMENT_METHODS).optional(),
    reason: anyText.optional(),
  }),
});

// The original generator writes error_code, message and error_at at the top level beside an empty
// `details: {}`; logpipe's generator puts error_at inside details. Both are accepted, one is needed.
export const errorEventSchema = z
  .looseObject({
    ...common,
    event_type: z.literal('error'),
    error_code: text,
    message: text,
    error_at: isoTimestamp.optional(),
    details: z.looseObject({ error_at: isoTimestamp.optional() }),
  })
  .refine((e) => e.details.error_at !== undefined || e.error_at !== undefined, {
    message: 'must be an ISO-8601 timestamp with a time zone (error_at, at the top level or in details)',
    path: ['error_at'],
  });

export const eventSchema = z.discriminatedUnion('event_type', [
  searchEventSchema,
  purchaseEventSchema,
  orderCompleteEventSchema,
  orderFailedEventSchema,
  errorEventSchema,
]);

/** An event as it arrives: event_id and schema_version may be missing. */
export type IncomingEvent = z.infer<typeof eventSchema>;
/** An accepted event: it always carries its id and schema version. */
export type LogEvent = IncomingEvent & { event_id: string; schema_version: number };
export type SearchEvent = z.infer<typeof searchEventSchema>;
export type PurchaseEvent = z.infer<typeof purchaseEventSchema>;
export type OrderCompleteEvent = z.infer<typeof orderCompleteEventSchema>;
export type OrderFailedEvent = z.infer<typeof orderFailedEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;

/** When an error happened, wherever the event put it (details.error_at wins when both are there). */
export function errorAtOf(e: ErrorEvent): string {
  return (e.details.error_at ?? e.error_at) as string;
}
