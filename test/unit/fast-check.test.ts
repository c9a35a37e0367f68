// The compiled check (lib/events/fast-check.ts) against the contract's zod schema, on events of
// every type and on hand-written hostile values, one field at a time: it may leave a line to zod,
// but it never accepts a line zod refuses, and what it accepts makes the same row.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rowOf } from '../../activities/rows.ts';
import { fastCheckedEvent } from '../../lib/events/fast-check.ts';
import { eventSchema, type LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { badInputs } from '../fixtures/bad-inputs.ts';
import { goldenLines } from '../fixtures/golden.ts';
import { poisonLines, poisonMessages } from '../fixtures/poison.ts';

type Json = Record<string, unknown>;

/** Compares both verdicts on one line; returns whether the compiled check took it. */
function agree(line: string, label: string): boolean {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return false;
  }
  const fast = fastCheckedEvent(line, obj);
  const zod = eventSchema.safeParse(JSON.parse(line));
  if (fast) {
    assert.ok(
      zod.success,
      `${label}: the compiled check accepted what zod refuses (${zod.error?.issues[0]?.message})`,
    );
    assert.deepEqual(rowOf(fast), rowOf(zod.data as LogEvent), `${label}: the same row`);
  }
  return fast !== undefined;
}

const base = (() => {
  const byType = new Map<string, Json>();
  for (const e of new EventGenerator({
    seed: 'fast-check',
    start: new Date('2026-12-02T05:00:00Z'),
    rate: 5,
  }).take(400))
    if (!byType.has(e.event_type)) byType.set(e.event_type, JSON.parse(JSON.stringify(e)) as Json);
  return byType;
})();

/** The object at a dotted path's parent, and the last key. */
function at(obj: Json, path: string): [Json, string] {
  const keys = path.split('.');
  let o: Json = obj;
  for (const k of keys.slice(0, -1)) o = o[k] as Json;
  return [o, keys.at(-1) as string];
}

const DELETE = Symbol('delete');
const HOSTILE: unknown[] = [
  DELETE,
  null,
  '',
  ' ',
  ' x',
  'x ',
  '\u00a0x',
  'x\u2028',
  '\ufeffx',
  'x'.repeat(129),
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 31 - 1,
  1e12,
  999_999_999_999.99,
  999_999_999_999.996,
  1e15,
  true,
  [],
  {},
  ['x'],
  'INFO',
  'info',
  'WARNING',
  'desktop',
  'paypal',
  'express',
  '2026-02-30T00:00:00Z',
  '2026-01-01T00:00:00',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:60Z',
  '2026-01-01T00:00:00+16:00',
  '2026-01-01T00:00:00+15:59',
  '0000-01-01T00:00:00Z',
  '2026-01-01',
  '2026-13-01',
  '2026-01-01T05:00:00.123456Z',
  [{ product_id: 'p', quantity: 0 }],
  [{ product_id: 'p', quantity: 1.5 }],
  [{ product_id: ' p', quantity: 1 }],
  [{ product_id: 'p', quantity: 2 }],
  [{ quantity: 2 }],
  'search',
  'error',
  'order_failed',
];

describe('compiled contract check', () => {
  it('takes every generated event of every type, with the row zod gives', () => {
    let taken = 0;
    const events = [
      ...new EventGenerator({ seed: 'fast-all', start: new Date('2026-12-02T05:00:00Z'), rate: 20 }).take(
        5000,
      ),
    ];
    for (const e of events) if (agree(JSON.stringify(e), e.event_type)) taken++;
    assert.equal(taken, events.length, 'the worker’s lines never need zod');
    assert.equal(base.size, 5);
  });

  it('never accepts a hostile value zod refuses, one field at a time, in every type', () => {
    let checked = 0;
    let taken = 0;
    for (const [type, event] of base) {
      const paths: string[] = [];
      const walk = (o: Json, prefix: string) => {
        for (const [k, v] of Object.entries(o)) {
          paths.push(`${prefix}${k}`);
          if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Json, `${prefix}${k}.`);
        }
      };
      walk(event, '');
      // Optional fields that an event may lack, and fields of other types, are tried too.
      paths.push(
        'details.order_id',
        'details.payment_method',
        'details.reason',
        'error_at',
        'details.error_at',
      );
      for (const path of paths) {
        for (const value of HOSTILE) {
          const copy = JSON.parse(JSON.stringify(event)) as Json;
          const [parent, key] = at(copy, path);
          if (!parent || typeof parent !== 'object') continue;
          if (value === DELETE) delete parent[key];
          else parent[key] = value;
          if (
            agree(
              JSON.stringify(copy),
              `${type} ${path}=${JSON.stringify(value === DELETE ? 'deleted' : value)}`,
            )
          )
            taken++;
          checked++;
        }
      }
    }
    assert.ok(checked > 2000, `${checked} variants`);
    assert.ok(taken > 100, `${taken} valid variants taken without zod`);
  });

  it('leaves every line with a \\u escape to zod, and agrees on the hand-written fixtures', () => {
    const search = base.get('search') as Json;
    const escaped = JSON.stringify({ ...search, service: 'a\u00e9' }).replace('\u00e9', '\\u00e9');
    assert.equal(fastCheckedEvent(escaped, JSON.parse(escaped)), undefined);
    const nul = JSON.stringify({ ...search, service: 'a\u0000b' });
    assert.equal(fastCheckedEvent(nul, JSON.parse(nul)), undefined);
    const now = Date.parse('2026-12-02T06:00:00Z');
    const lines = [
      ...goldenLines('original-events').map((b) => b.toString('utf8')),
      ...goldenLines('foreign-variation').map((b) => b.toString('utf8')),
      ...poisonLines(now, 'fc').map((l) => l.bytes.toString('utf8')),
      ...poisonMessages(now, 'fc').map((m) => m.bytes.toString('utf8')),
      ...badInputs(
        [...base.values()].map((e) => e as unknown as LogEvent),
        'fc',
      ).map((b) => b.bytes.toString('utf8')),
    ];
    assert.ok(lines.length > 50);
    for (const [i, line] of lines.entries()) agree(line, `fixture line ${i}`);
  });
});
