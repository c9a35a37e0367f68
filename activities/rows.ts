// Turns raw NDJSON lines into rows of the per-type raw tables, as CSV for COPY. Pure.

import type { EventType } from '../lib/events/enums.ts';
import { fastCheckedEvent } from '../lib/events/fast-check.ts';
import { parseEvent } from '../lib/events/parse.ts';
import { errorAtOf, eventSchema, type LogEvent } from '../lib/events/schema.ts';

export type Value = string | number | null | undefined;

const NEEDS_QUOTES = /[",\r\n\\]/;

/** NULL is an empty field; an empty string is quoted; other text only when it must be. */
function csvField(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  return v === '' || NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** The fields of a CSV row, without its newline. */
export const csvFields = (values: Value[]) => values.map(csvField).join(',');

export const csvLine = (values: Value[]) => `${csvFields(values)}\n`;

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

/** A line that cannot be loaded: where it is in its file, and why. */
export interface RefusedLine {
  /** 1-based line number in the file. */
  lineNo: number;
  stage: 'contract' | 'postgres';
  error: string;
}

/**
 * A raw table's row as COPY takes it, without the load's own columns and the newline (the split's
 * `tail` follows every row): CSV text made from a line, or a lake file's prepared row as the bytes
 * Parquet holds (never decoded to a string and encoded again).
 */
export type CopyRow = string | Uint8Array;

export interface SplitFile {
  csv: Record<EventType, CopyRow[]>;
  /** What follows every row: the load's own columns (`extra`) and the newline. */
  tail: string;
  /** The file's line number of each CSV row, row for row. */
  lineNos: Record<EventType, number[]>;
  lines: number;
  /** Lines that fail the contract (an older worker wrote them, or a hand-made file). */
  refused: RefusedLine[];
  /** `type:event_id` of the rows kept from lines, so a repeat within the chunk is dropped. */
  eventIds: Set<string>;
}

// The batch loads what the streaming worker already accepted; its timestamp window is not reapplied.
const STORED_LINE_OPTIONS = {
  maxBytes: 1 << 24,
  maxDepth: 64,
  maxFutureMs: Number.POSITIVE_INFINITY,
  maxPastMs: Number.POSITIVE_INFINITY,
};

export type StoredLine =
  /** canonical: the compiled check accepted the line, so `event` is JSON.parse of the line itself. */
  { ok: true; event: LogEvent; canonical: boolean } | { ok: false; error: string };

/**
 * A stored line as an event, or why it fails the contract. Lines the streaming worker wrote carry
 * their id and version: they take the short path (JSON.parse and the compiled check, zod when the
 * check is not sure); any other line,
 * and any line the short path refuses (for its reason), goes through the full parser, which also
 * derives the id of a line without one.
 */
export function parseStoredLine(line: string): StoredLine {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    obj = undefined;
  }
  const o = obj as { event_id?: unknown; schema_version?: unknown } | null | undefined;
  if (o && typeof o === 'object' && typeof o.event_id === 'string' && typeof o.schema_version === 'number') {
    // The worker's lines are canonical: the compiled check accepts them without zod's cost.
    const fast = fastCheckedEvent(line, obj);
    if (fast) return { ok: true, event: fast, canonical: true };
    const parsed = eventSchema.safeParse(obj);
    if (parsed.success) return { ok: true, event: parsed.data as LogEvent, canonical: false };
  }
  const r = parseEvent(line, STORED_LINE_OPTIONS);
  return r.ok
    ? { ok: true, event: r.event, canonical: false }
    : { ok: false, error: `${r.reason}: ${r.detail}` };
}

const YIELD_EVERY = 2000;

/**
 * Splits a file's lines by event type as CSV rows (the split's `tail` carries `extra`, the load's
 * own columns, for every row); lines that fail the contract are listed for the quarantine, not loaded. It lets the
 * event loop run every few thousand lines, so that while one file is parsed here the COPY of
 * another (two load at once) keeps PostgreSQL busy.
 */
export async function splitLines(text: string, extra: Value[] = []): Promise<SplitFile> {
  return splitChunk(text.split('\n'), 1, extra);
}

/** splitLines for one chunk of a file's lines, the first of them line `firstLineNo` (1-based). */
export async function splitChunk(
  lines: string[],
  firstLineNo: number,
  extra: Value[] = [],
): Promise<SplitFile> {
  const split = emptySplit(extra);
  for (let i = 0; i < lines.length; i++) {
    addLine(split, lines[i] as string, firstLineNo + i);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise<void>((r) => setImmediate(r));
  }
  return split;
}

/** A lake file's rows as compaction prepared them (see lake/parquet-file.ts PreparedChunk). */
export interface PreparedRows {
  types: (EventType | null)[];
  csv: (Uint8Array | null)[];
  errors: (string | null)[];
}

/**
 * splitChunk for rows checked and converted when their hour was compacted: each row's CSV bytes go
 * to its type, a row off the contract is refused with the reason found then (the same words the
 * line path gives). Compaction kept one row per type and id, so there is no repeat to drop.
 */
export function splitPrepared(rows: PreparedRows, firstLineNo: number, extra: Value[] = []): SplitFile {
  const split = emptySplit(extra);
  for (let i = 0; i < rows.csv.length; i++) {
    split.lines++;
    const csv = rows.csv[i];
    const type = rows.types[i];
    if (csv == null || type == null || !Object.hasOwn(split.csv, type)) {
      const error = rows.errors[i] ?? 'lake row without its raw-table row';
      split.refused.push({ lineNo: firstLineNo + i, stage: 'contract', error });
      continue;
    }
    split.csv[type].push(csv);
    split.lineNos[type].push(firstLineNo + i);
  }
  return split;
}

function emptySplit(extra: Value[]): SplitFile {
  return {
    csv: { search: [], purchase: [], order_complete: [], order_failed: [], error: [] },
    tail: extra.length ? `,${csvFields(extra)}\n` : '\n',
    lineNos: { search: [], purchase: [], order_complete: [], order_failed: [], error: [] },
    lines: 0,
    refused: [],
    eventIds: new Set<string>(),
  };
}

function addLine(split: SplitFile, line: string, lineNo: number): void {
  if (!line) return;
  split.lines++;
  const parsed = parseStoredLine(line);
  if (!parsed.ok) {
    split.refused.push({ lineNo, stage: 'contract', error: parsed.error });
    return;
  }
  const event = parsed.event;
  // A repeat is the same type and id (each raw table is keyed by event_id); an id another type
  // also uses is a different event, loaded into its own table (fact_events keeps one of them).
  const key = `${event.event_type}:${event.event_id}`;
  if (split.eventIds.has(key)) return;
  split.eventIds.add(key);
  split.csv[event.event_type].push(csvFields(rowOf(event)));
  split.lineNos[event.event_type].push(lineNo);
}
