// Turns the bytes of one Kafka message (or one NDJSON line) into an accepted event, or into a
// rejection with a reason. Pure: no I/O, so every path is unit-tested.
import { createHash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { errorMessage } from '../errors.ts';
import { fastCheckedEvent } from './fast-check.ts';
import { eventSchema, type LogEvent, SCHEMA_VERSION, unstorableString } from './schema.ts';

export const REJECT_REASONS = [
  'too_large',
  'invalid_utf8',
  'invalid_json',
  'not_an_object',
  'too_deep',
  'schema_violation',
  'unknown_event_type',
  'timestamp_out_of_range',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Why a message is in the dead-letter topic: the parser's reasons, or a sink that refused it. */
export const DEAD_LETTER_REASONS = [...REJECT_REASONS, 'sink_rejected'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface ParseOptions {
  maxBytes: number;
  /** Deepest nesting of objects and arrays accepted. */
  maxDepth: number;
  /** Accepted window for an event's own timestamp, relative to now. */
  maxFutureMs: number;
  maxPastMs: number;
  now?: number;
}

export const DEFAULT_PARSE_OPTIONS: ParseOptions = {
  maxBytes: 64 * 1024,
  maxDepth: 8,
  maxFutureMs: 24 * 3600_000,
  maxPastMs: 366 * 24 * 3600_000,
};

export type ParseResult =
  | {
      ok: true;
      event: LogEvent /** The stored line: the original fields, with event_id and schema_version. */;
      line: string;
      /** The stored line as UTF-8: the input's own bytes when the line is kept as it came. */
      bytes: Uint8Array;
    }
  | { ok: false; reason: RejectReason; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A stable id for an event that arrived without one: the same bytes always give the same id. */
export function deriveEventId(bytes: Uint8Array): string {
  const h = createHash('sha256').update(bytes).digest('hex');
  // Formatted as a UUID (version 8, "custom"), so every event_id has one shape.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** How deep objects and arrays nest in `value`, counted up to just past `limit`. */
function depth(value: unknown, limit: number, level = 0): number {
  if (level > limit) return level;
  if (value === null || typeof value !== 'object') return level;
  let max = level + 1;
  // Walked in place (no Object.values array per object): this runs on every message.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && max <= limit; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object') max = Math.max(max, depth(v, limit, level + 1));
    }
  } else {
    const obj = value as Record<string, unknown>;
    for (const k in obj) {
      const v = obj[k];
      if (v !== null && typeof v === 'object') max = Math.max(max, depth(v, limit, level + 1));
      if (max > limit) break;
    }
  }
  return max;
}

/** The first key or string anywhere in the value that no store could hold, with why. */
function unstorable(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') {
    const why = unstorableString(value);
    return why && `${path.join('.') || '(root)'}: ${why}`;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const keyWhy = Array.isArray(value) ? undefined : unstorableString(k);
    if (keyWhy) return `${[...path, k].join('.')}: the field name ${keyWhy}`;
    const inner = unstorable(v, [...path, k]);
    if (inner) return inner;
  }
  return undefined;
}

function trimNewline(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return end === bytes.length ? bytes : bytes.subarray(0, end);
}

export function parseEvent(
  input: Uint8Array | string,
  options: ParseOptions = DEFAULT_PARSE_OPTIONS,
): ParseResult {
  const bytes = trimNewline(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  if (bytes.length > options.maxBytes) {
    return {
      ok: false,
      reason: 'too_large',
      detail: `${bytes.length} bytes is over the limit of ${options.maxBytes}`,
    };
  }
  let textValue: string;
  try {
    textValue = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'invalid_utf8', detail: 'the message is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(textValue);
  } catch (err) {
    return { ok: false, reason: 'invalid_json', detail: errorMessage(err).slice(0, 200) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      reason: 'not_an_object',
      detail: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    };
  }
  if (depth(value, options.maxDepth) > options.maxDepth) {
    return { ok: false, reason: 'too_deep', detail: `nested deeper than ${options.maxDepth} levels` };
  }
  const obj = value as Record<string, unknown>;
  // NUL and lone surrogates anywhere (extra fields and filters included): PostgreSQL refuses them.
  // Valid UTF-8 holds no lone surrogate and JSON no raw NUL in a string: only a \u escape can
  // bring either in, so text without one needs no walk.
  const unstorableDetail = textValue.includes('\\u') ? unstorable(obj) : undefined;
  if (unstorableDetail) return { ok: false, reason: 'schema_violation', detail: unstorableDetail };
  // The producer's and the worker's own lines are canonical: the compiled check accepts them at a
  // fraction of zod's cost (same verdict, same object); zod decides, with its message, otherwise.
  const fast = fastCheckedEvent(textValue, obj);
  const parsed = fast ? ({ success: true, data: fast } as const) : eventSchema.safeParse(obj);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || '(root)';
    const unknownType = issue?.path.length === 1 && issue.path[0] === 'event_type';
    return {
      ok: false,
      reason: unknownType ? 'unknown_event_type' : 'schema_violation',
      detail: unknownType
        ? `event_type ${JSON.stringify(obj.event_type)} is not one of search, purchase, order_complete, order_failed, error`
        : `${path}: ${issue?.message ?? 'invalid'}`,
    };
  }
  const now = options.now ?? Date.now();
  const at = Date.parse(parsed.data.timestamp);
  if (at > now + options.maxFutureMs || at < now - options.maxPastMs) {
    return {
      ok: false,
      reason: 'timestamp_out_of_range',
      detail: `timestamp ${parsed.data.timestamp} is outside the accepted window`,
    };
  }
  const event_id = parsed.data.event_id ?? deriveEventId(bytes);
  const schema_version = parsed.data.schema_version ?? SCHEMA_VERSION;
  // The stored line keeps every original field (extra ones included) as it came.
  const keepAsIs =
    parsed.data.event_id !== undefined &&
    parsed.data.schema_version !== undefined &&
    !textValue.includes('\n') &&
    !textValue.includes('\r');
  const line = keepAsIs ? textValue : JSON.stringify({ ...obj, event_id, schema_version });
  // The decoder drops a byte order mark, so such input is not the line's bytes.
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const lineBytes = keepAsIs && !bom && typeof input !== 'string' ? bytes : Buffer.from(line, 'utf8');
  return {
    ok: true,
    // zod's output is already a copy: it is extended only when an id or version had to be added.
    event: (keepAsIs ? parsed.data : { ...parsed.data, event_id, schema_version }) as LogEvent,
    line,
    bytes: lineBytes,
  };
}
