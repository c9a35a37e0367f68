// Turns raw NDJSON lines into rows of the per-type raw tables, as CSV for COPY. Pure.
import { parseEvent } from '../lib/events/parse.ts';
import type { EventType, LogEvent } from '../lib/events/schema.ts';

type Value = string | number | null | undefined;

function csvField(v: Value): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return `"${s.replaceAll('"', '""')}"`;
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
      return [...common, e.error_code, e.message, e.details.error_at];
  }
}

export interface SplitFile {
  csv: Record<EventType, string[]>;
  lines: number;
  rejected: number;
  eventIds: Set<string>;
}

/** Splits a file's lines by event type; lines that fail the contract are counted, not loaded. */
export function splitLines(text: string): SplitFile {
  const csv: Record<EventType, string[]> = {
    search: [],
    purchase: [],
    order_complete: [],
    order_failed: [],
    error: [],
  };
  const eventIds = new Set<string>();
  let lines = 0;
  let rejected = 0;
  // The batch loads what the streaming worker already accepted; its timestamp window is not reapplied.
  const options = {
    maxBytes: 1 << 24,
    maxDepth: 64,
    maxFutureMs: Number.POSITIVE_INFINITY,
    maxPastMs: Number.POSITIVE_INFINITY,
  };
  for (const line of text.split('\n')) {
    if (!line) continue;
    lines++;
    const r = parseEvent(line, options);
    if (!r.ok) {
      rejected++;
      continue;
    }
    if (eventIds.has(r.event.event_id)) continue;
    eventIds.add(r.event.event_id);
    csv[r.event.event_type].push(csvLine(rowOf(r.event)));
  }
  return { csv, lines, rejected, eventIds };
}
