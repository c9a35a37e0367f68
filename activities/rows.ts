// Turns raw NDJSON lines into rows of the per-type raw tables, as CSV for COPY. Pure.
import { parseEvent } from '../lib/events/parse.ts';
import { type EventType, errorAtOf, eventSchema, type LogEvent } from '../lib/events/schema.ts';

export type Value = string | number | null | undefined;

const NEEDS_QUOTES = /[",\r\n\\]/;

/** NULL is an empty field; an empty string is quoted; other text only when it must be. */
function csvField(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  return v === '' || NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export const csvLine = (values: Value[]) => `${values.map(csvField).join(',')}\n`;

const pgArray = (xs: number[]) => `{${xs.join(',')}}`;

/** The columns purchase and order_complete rows share, in table order. */
function orderColumns(d: {
  order_id?: string;
  amount: number;
  payment_method?: string;
  items: { quantity: number }[];
}): Value[] {
  return [
    d.order_id,
    d.amount,
    d.payment_method,
    JSON.stringify(d.items),
    pgArray(d.items.map((i) => i.quantity)),
  ];
}

export function rowOf(e: LogEvent): Value[] {
  const common: Value[] = [
    e.event_id,
    e.schema_version,
    e.timestamp,
    e.level,
    e.service,
    e.event_type,
    e.user_id,
    e.session_id,
    e.product_id,
    e.session_duration,
    e.device_type,
    e.geo_location.country,
    e.geo_location.city,
  ];
  switch (e.event_type) {
    case 'search':
      return [
        ...common,
        e.details.query,
        e.details.results_count,
        JSON.stringify(e.details.filters),
        e.details.searched_at,
      ];
    case 'purchase':
      return [...common, ...orderColumns(e.details), e.details.shipping_address];
    case 'order_complete':
      return [
        ...common,
        ...orderColumns(e.details),
        e.details.shipping_method,
        e.details.delivery_estimate.slice(0, 10),
        e.details.completed_at,
      ];
    case 'order_failed':
      return [
        ...common,
        e.details.order_id,
        e.details.attempted_amount,
        e.details.payment_method,
        e.details.reason,
        e.details.failed_at,
      ];
    case 'error':
      return [...common, e.error_code, e.message, errorAtOf(e)];
  }
}

export interface SplitFile {
  csv: Record<EventType, string[]>;
  lines: number;
  rejected: number;
  eventIds: Set<string>;
}

// The batch loads what the streaming worker already accepted; its timestamp window is not reapplied.
const STORED_LINE_OPTIONS = {
  maxBytes: 1 << 24,
  maxDepth: 64,
  maxFutureMs: Number.POSITIVE_INFINITY,
  maxPastMs: Number.POSITIVE_INFINITY,
};

/**
 * A stored line as an event, or undefined when it fails the contract. Lines the streaming worker
 * wrote carry their id and version: they take the short path (JSON.parse and the zod schema); any
 * other line goes through the full parser, which derives the id from its bytes.
 */
export function parseStoredLine(line: string): LogEvent | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  const o = obj as { event_id?: unknown; schema_version?: unknown } | null;
  if (o && typeof o === 'object' && typeof o.event_id === 'string' && typeof o.schema_version === 'number') {
    const parsed = eventSchema.safeParse(obj);
    return parsed.success ? (parsed.data as LogEvent) : undefined;
  }
  const r = parseEvent(line, STORED_LINE_OPTIONS);
  return r.ok ? r.event : undefined;
}

const YIELD_EVERY = 2000;

/**
 * Splits a file's lines by event type as CSV rows (each followed by `extra`, the load's own
 * columns); lines that fail the contract are counted, not loaded. It lets the event loop run every
 * few thousand lines, so that while one file is parsed here the COPY of another (two load at once)
 * keeps PostgreSQL busy.
 */
export async function splitLines(text: string, extra: Value[] = []): Promise<SplitFile> {
  const split = emptySplit();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    addLine(split, lines[i] as string, extra);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise<void>((r) => setImmediate(r));
  }
  return split;
}

function emptySplit(): SplitFile {
  return {
    csv: { search: [], purchase: [], order_complete: [], order_failed: [], error: [] },
    lines: 0,
    rejected: 0,
    eventIds: new Set<string>(),
  };
}

function addLine(split: SplitFile, line: string, extra: Value[]): void {
  if (!line) return;
  split.lines++;
  const event = parseStoredLine(line);
  if (!event) {
    split.rejected++;
    return;
  }
  if (split.eventIds.has(event.event_id)) return;
  split.eventIds.add(event.event_id);
  split.csv[event.event_type].push(csvLine(extra.length ? [...rowOf(event), ...extra] : rowOf(event)));
}
