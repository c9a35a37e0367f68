// A hand-compiled check of the event contract for lines already in canonical form, the form the
// streaming worker writes: every string already trimmed and free of \u escapes, event_id and
// schema_version present. For such a line it answers what eventSchema answers, at a fraction of
// zod's cost, and returns the parsed object itself (zod's only transform, trim, would not change
// it). It never accepts what eventSchema refuses: anything it is not sure of (a string with spaces
// around it, an escape, a value out of range) is `undefined`, and the caller asks zod, which gives
// the exact verdict and message. test/unit/fast-check.test.ts holds it to that on hostile values.
import { DEVICE_TYPES, LEVELS, PAYMENT_METHODS, SHIPPING_METHODS } from './enums.ts';
import {
  AMOUNT_LIMIT,
  INT32_MAX,
  type LogEvent,
  MAX_ID_LENGTH,
  validDateOrTimestamp,
  validTimestamp,
} from './schema.ts';

type Obj = Record<string, unknown>;

const LEVEL = new Set<unknown>(LEVELS);
const DEVICE = new Set<unknown>(DEVICE_TYPES);
const PAYMENT = new Set<unknown>(PAYMENT_METHODS);
const SHIPPING = new Set<unknown>(SHIPPING_METHODS);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Non-empty and already trimmed (so zod's trim leaves it as it is). */
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.trim() === v;
const isId = (v: unknown) => isText(v) && v.length <= MAX_ID_LENGTH;
const isInt32 = (v: unknown, min: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= INT32_MAX;
const isMoney = (v: unknown) =>
  typeof v === 'number' &&
  Number.isFinite(v) &&
  v >= 0 &&
  v < AMOUNT_LIMIT &&
  Math.round(v * 100) < AMOUNT_LIMIT * 100;
const isTimestamp = (v: unknown) => typeof v === 'string' && validTimestamp(v);

function isItems(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  for (const item of v)
    if (!isObj(item) || !isText(item.product_id) || !isInt32(item.quantity, 1)) return false;
  return true;
}

function commonOk(e: Obj): boolean {
  const geo = e.geo_location;
  const d = e.session_duration;
  return (
    isId(e.event_id) &&
    isInt32(e.schema_version, 1) &&
    isTimestamp(e.timestamp) &&
    LEVEL.has(e.level) &&
    isText(e.service) &&
    isText(e.user_id) &&
    isText(e.session_id) &&
    isText(e.product_id) &&
    typeof d === 'number' &&
    Number.isFinite(d) &&
    d >= 0 &&
    d < 1e15 &&
    DEVICE.has(e.device_type) &&
    isObj(geo) &&
    isText(geo.country) &&
    isText(geo.city) &&
    isObj(e.details)
  );
}

function detailsOk(e: Obj, d: Obj): boolean {
  switch (e.event_type) {
    case 'search':
      return (
        typeof d.query === 'string' &&
        isInt32(d.results_count, 0) &&
        isObj(d.filters) &&
        isTimestamp(d.searched_at)
      );
    case 'purchase':
      return (
        isMoney(d.amount) &&
        PAYMENT.has(d.payment_method) &&
        isItems(d.items) &&
        isText(d.shipping_address) &&
        (d.order_id === undefined || isText(d.order_id))
      );
    case 'order_complete':
      return (
        isText(d.order_id) &&
        isMoney(d.amount) &&
        isItems(d.items) &&
        SHIPPING.has(d.shipping_method) &&
        typeof d.delivery_estimate === 'string' &&
        validDateOrTimestamp(d.delivery_estimate) &&
        isTimestamp(d.completed_at) &&
        (d.payment_method === undefined || PAYMENT.has(d.payment_method))
      );
    case 'order_failed':
      return (
        isText(d.order_id) &&
        isMoney(d.attempted_amount) &&
        isTimestamp(d.failed_at) &&
        (d.payment_method === undefined || PAYMENT.has(d.payment_method)) &&
        (d.reason === undefined || typeof d.reason === 'string')
      );
    case 'error':
      return (
        isText(e.error_code) &&
        isText(e.message) &&
        (e.error_at === undefined || isTimestamp(e.error_at)) &&
        (d.error_at === undefined || isTimestamp(d.error_at)) &&
        (e.error_at !== undefined || d.error_at !== undefined)
      );
    default:
      return false;
  }
}

/**
 * The event, when `line` (its text) and `obj` (JSON.parse of it) are certainly valid; otherwise
 * undefined, and only zod can say. A line with a \u escape is left to zod: only an escape can put
 * a NUL or a lone surrogate into a string parsed from valid UTF-8.
 */
export function fastCheckedEvent(line: string, obj: unknown): LogEvent | undefined {
  if (line.includes('\\u') || !isObj(obj)) return undefined;
  return commonOk(obj) && detailsOk(obj, obj.details as Obj) ? (obj as unknown as LogEvent) : undefined;
}
