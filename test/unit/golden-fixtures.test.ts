// The hand-written golden fixtures (test/fixtures/golden) against the contract, the flattening for
// Cassandra and the raw-table rows. The expected values below are read off the fixture lines by
// hand, not computed by the code under test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rowOf } from '../../activities/rows.ts';
import { fastCheckedEvent } from '../../lib/events/fast-check.ts';
import { flattenEvent } from '../../lib/events/flatten.ts';
import { DEFAULT_PARSE_OPTIONS, parseEvent } from '../../lib/events/parse.ts';
import { eventSchema, type LogEvent } from '../../lib/events/schema.ts';
import { GOLDEN_BASE, goldenLines, shiftMinutes } from '../fixtures/golden.ts';

const opts = { ...DEFAULT_PARSE_OPTIONS, now: GOLDEN_BASE + 3600_000 };

function accepted(name: 'original-events' | 'foreign-variation'): { line: string; event: LogEvent }[] {
  return goldenLines(name).map((bytes) => {
    const r = parseEvent(bytes, opts);
    assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}\n${bytes.toString()}`);
    return { line: r.line, event: r.event };
  });
}

describe('golden fixture: the original system as it writes its logs', () => {
  const events = accepted('original-events');

  it('accepts every line, of all five types', () => {
    const types = events.map((e) => e.event.event_type);
    assert.deepEqual(
      { search: 3, purchase: 3, order_complete: 3, order_failed: 2, error: 3 },
      Object.fromEntries(
        ['search', 'purchase', 'order_complete', 'order_failed', 'error'].map((t) => [
          t,
          types.filter((x) => x === t).length,
        ]),
      ),
    );
  });

  it('gives every line its own stable id and keeps the original fields in the stored line', () => {
    const ids = new Set(events.map((e) => e.event.event_id));
    assert.equal(ids.size, 14);
    const again = goldenLines('original-events').map(
      (b) => (parseEvent(b, opts) as { event: LogEvent }).event.event_id,
    );
    assert.deepEqual(
      again,
      events.map((e) => e.event.event_id),
    );
    const stored = JSON.parse(events[3]?.line ?? '{}');
    assert.equal(stored.details.shipping_address, 'Friedrichstraße 43\n10117 Berlin');
    assert.equal(stored.schema_version, 1);
  });

  it('error events: top-level error_at, message and code reach the flat columns and the raw row', () => {
    const errors = events.filter((e) => e.event.event_type === 'error').map((e) => e.event);
    const flat = errors.map(flattenEvent);
    assert.deepEqual(
      flat.map((f) => [f.error_code, f.message, f.error_at]),
      [
        ['ERR-5021', 'Payment processing failed', '2025-03-01T10:28:14.640281Z'],
        ['ERR-1004', 'Inventory check timeout', '2025-03-01T10:31:00Z'],
        ['ERR-4040', 'Product not found', '2025-03-01T10:33:21.215550Z'],
      ],
    );
    const row = rowOf(errors[0] as LogEvent);
    assert.deepEqual(row.slice(-3), ['ERR-5021', 'Payment processing failed', '2025-03-01T10:28:14.640281Z']);
  });

  it('purchases without order_id and orders without payment_method flatten to nulls', () => {
    const purchases = events
      .filter((e) => e.event.event_type === 'purchase')
      .map((e) => flattenEvent(e.event));
    assert.deepEqual(
      purchases.map((p) => p.details_order_id),
      [null, null, null],
    );
    assert.deepEqual(
      purchases.map((p) => p.details_amount),
      [1289.97, 54, 2954],
    );
    assert.equal(
      purchases[1]?.details_items,
      '[{"product_id":"prod_00881","quantity":1},{"product_id":"prod_02290","quantity":2}]',
    );
    const completes = events
      .filter((e) => e.event.event_type === 'order_complete')
      .map((e) => flattenEvent(e.event));
    assert.deepEqual(
      completes.map((c) => c.details_payment_method),
      [null, null, null],
    );
    assert.deepEqual(
      completes.map((c) => c.details_order_id),
      ['order_381920', 'order_381920', 'order_000001'],
    );
    const row = rowOf(events.find((e) => e.event.event_type === 'order_complete')?.event as LogEvent);
    assert.equal(row[row.length - 2], '2025-03-04', 'delivery date from a zone-less date-time');
  });

  it('timestamps: microseconds and whole seconds, read as UTC', () => {
    const flat = events.map((e) => flattenEvent(e.event));
    assert.equal(flat[0]?.timestamp.toISOString(), '2025-03-01T10:02:11.482Z');
    assert.equal(flat[2]?.timestamp.toISOString(), '2025-03-01T10:07:33.000Z');
    assert.deepEqual(new Set(flat.map((f) => `${f.day}T${f.hour}`)), new Set(['2025-03-01T10']));
  });
});

describe('golden fixture: valid foreign variation', () => {
  const events = accepted('foreign-variation');

  it('accepts unicode, other countries, offsets, WARN and extra fields', () => {
    const flat = events.map((e) => flattenEvent(e.event));
    assert.deepEqual(
      flat.map((f) => f.geo_city),
      ['東京', 'São Paulo', 'Zürich', 'Lagos', '서울', 'Cape Town'],
    );
    assert.deepEqual(
      flat.map((f) => f.geo_country),
      ['JP', 'BR', 'CH', 'NG', 'KR', 'ZA'],
    );
    assert.equal(flat[0]?.details_query, 'ノートパソコン');
    assert.equal(flat[1]?.details_query, 'câmera "full-frame" <4k>');
    assert.equal(flat[1]?.level, 'WARN');
    // 15:40:12.5 at +05:30 and 07:15:03.1 at -03:00 are 10:10:12.5 and 10:15:03.1 in UTC.
    assert.equal(flat[0]?.timestamp.toISOString(), '2025-03-01T10:10:12.500Z');
    assert.equal(flat[1]?.timestamp.toISOString(), '2025-03-01T10:15:03.100Z');
    assert.equal(flat[5]?.error_at, '2025-03-01T10:55:00.000Z');
    assert.equal(flat[5]?.message, 'Inventory check timeout — retrying 😕');
  });

  it('keeps the fields beyond the contract in the stored line', () => {
    const first = JSON.parse(events[0]?.line ?? '{}');
    assert.equal(first.app_version, '4.18.2');
    assert.deepEqual(first.experiment, { id: 'exp-search-rank', arm: 'B' });
    const purchase = JSON.parse(events[2]?.line ?? '{}');
    assert.equal(purchase.details.coupon, 'WINTER10');
    assert.equal(purchase.details.items[0].sku, 'CH-3131');
    assert.equal(purchase.geo_location.region, 'ZH');
  });
});

describe('moving the golden fixtures in time', () => {
  it('keeps each value in its own form', () => {
    const text =
      '{"a": "2025-03-01T10:02:11.482913Z", "b": "2025-03-01T15:40:12.5+05:30", "c": "2025-03-08", "d": "2025-03-04T10:16:30.551790", "e": "2025-03-01T10:31:00Z"}';
    assert.equal(
      shiftMinutes(text, 24 * 60 + 90),
      '{"a": "2025-03-02T11:32:11.482913Z", "b": "2025-03-02T17:10:12.5+05:30", "c": "2025-03-09", "d": "2025-03-05T11:46:30.551790", "e": "2025-03-02T12:01:00Z"}',
    );
  });

  it('gives lines the contract still accepts a year later', () => {
    const at = new Date('2026-12-02T08:00:00Z');
    for (const name of ['original-events', 'foreign-variation'] as const) {
      for (const bytes of goldenLines(name, at)) {
        const r = parseEvent(bytes, { ...DEFAULT_PARSE_OPTIONS, now: at.getTime() + 3600_000 });
        assert.ok(r.ok, r.ok ? '' : r.detail);
      }
    }
  });
});

describe('golden fixture: the stored lines read again (the compiled check on the hot path)', () => {
  it('gives what zod gives for every stored line, most of them without asking zod', () => {
    let fast = 0;
    for (const name of ['original-events', 'foreign-variation'] as const) {
      for (const { line } of accepted(name)) {
        const again = parseEvent(Buffer.from(line, 'utf8'), opts);
        assert.ok(again.ok, line);
        assert.deepEqual(again.event, eventSchema.parse(JSON.parse(line)), line);
        assert.equal(again.line, line, 'a stored line is kept as it is');
        if (fastCheckedEvent(line, JSON.parse(line))) fast++;
      }
    }
    assert.ok(fast >= 14, `only ${fast} stored lines passed the compiled check`);
  });
});
