// Values the contract used to accept that PostgreSQL or Cassandra refuse: each is now rejected at
// the front door with the field named. The limits are the stores' documented ones: PostgreSQL's
// `int` (-2^31..2^31-1), numeric(14,2) (below 10^12), text and jsonb without U+0000, jsonb without
// lone surrogates, timestamptz years 0001-9999 and offsets up to ±15:59; a btree row well under
// 2,704 bytes for the event_id key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PARSE_OPTIONS, parseEvent } from '../../lib/events/parse.ts';
import { validDateOrTimestamp, validTimestamp } from '../../lib/events/schema.ts';

const NOW = Date.parse('2026-02-27T12:00:00Z');
const opts = { ...DEFAULT_PARSE_OPTIONS, now: NOW };

// Written by hand, as the original system writes a search and an order_complete.
const search = () => ({
  timestamp: '2026-02-27T10:02:11.482913Z',
  level: 'INFO',
  service: 'ecommerce-platform',
  event_type: 'search',
  user_id: 'user_1',
  session_id: 'sess_00001',
  product_id: 'prod_00001',
  session_duration: 40,
  device_type: 'mobile',
  geo_location: { country: 'EG', city: 'Cairo' },
  details: {
    query: 'book',
    results_count: 3,
    filters: { category: 'Books' },
    searched_at: '2026-02-27T10:02:11Z',
  },
});
const complete = () => ({
  ...search(),
  event_type: 'order_complete',
  details: {
    order_id: 'order_000001',
    amount: 10.5,
    items: [{ product_id: 'prod_00001', quantity: 1 }],
    shipping_method: 'standard',
    delivery_estimate: '2026-03-02',
    completed_at: '2026-02-27T10:02:11Z',
  },
});

const rejects = (name: string, e: object, field: RegExp) =>
  it(`rejects ${name}`, () => {
    const r = parseEvent(JSON.stringify(e), opts);
    assert.equal(r.ok, false, `${name} was accepted`);
    if (!r.ok) {
      assert.equal(r.reason, 'schema_violation');
      assert.match(r.detail, field);
    }
  });

describe('the contract holds only what the stores can store', () => {
  it('accepts the hand-written base events', () => {
    assert.ok(parseEvent(JSON.stringify(search()), opts).ok);
    assert.ok(parseEvent(JSON.stringify(complete()), opts).ok);
  });
  const s = search();
  rejects(
    'results_count above 2^31-1',
    { ...s, details: { ...s.details, results_count: 2_147_483_648 } },
    /details\.results_count: .*32-bit/,
  );
  it('accepts results_count of exactly 2^31-1', () => {
    assert.ok(
      parseEvent(JSON.stringify({ ...s, details: { ...s.details, results_count: 2_147_483_647 } }), opts).ok,
    );
  });
  const c = complete();
  rejects(
    'a quantity above 2^31-1',
    { ...c, details: { ...c.details, items: [{ product_id: 'p', quantity: 3e9 }] } },
    /details\.items\.0\.quantity/,
  );
  rejects('a schema_version above 2^31-1', { ...s, schema_version: 2 ** 31 }, /schema_version/);
  rejects(
    'an amount of 10^12',
    { ...c, details: { ...c.details, amount: 1e12 } },
    /details\.amount: .*numeric\(14,2\)/,
  );
  rejects(
    'an amount that rounds to 10^12 at two decimals',
    { ...c, details: { ...c.details, amount: 999_999_999_999.996 } },
    /details\.amount: must round/,
  );
  it('accepts the largest amount numeric(14,2) holds', () => {
    assert.ok(
      parseEvent(JSON.stringify({ ...c, details: { ...c.details, amount: 999_999_999_999.99 } }), opts).ok,
    );
  });
  rejects(
    'a NUL in a query',
    { ...s, details: { ...s.details, query: 'bo\u0000ok' } },
    /details\.query: must not contain a NUL/,
  );
  rejects('a NUL in an extra field', { ...s, note: 'a\u0000b' }, /note: must not contain a NUL/);
  rejects(
    'a NUL in a field name',
    { ...s, details: { ...s.details, filters: { 'a\u0000': 1 } } },
    /the field name must not contain a NUL/,
  );
  rejects(
    'a lone surrogate in filters (jsonb)',
    { ...s, details: { ...s.details, filters: { brand: '\ud800x' } } },
    /details\.filters\.brand: .*surrogate/,
  );
  rejects(
    'a lone low surrogate in items',
    { ...c, details: { ...c.details, items: [{ product_id: 'p', quantity: 1, note: 'x\udc00' }] } },
    /details\.items\.0\.note: .*surrogate/,
  );
  rejects('an impossible date (30 February)', { ...s, timestamp: '2026-02-30T10:00:00Z' }, /^timestamp: /);
  rejects(
    'an impossible delivery date (31 February)',
    { ...c, details: { ...c.details, delivery_estimate: '2026-02-31' } },
    /details\.delivery_estimate/,
  );
  rejects(
    'an offset beyond ±15:59',
    { ...s, details: { ...s.details, searched_at: '2026-02-27T10:00:00+16:00' } },
    /details\.searched_at/,
  );
  rejects(
    'year 0000 in a *_at field',
    { ...c, details: { ...c.details, completed_at: '0000-01-01T00:00:00Z' } },
    /details\.completed_at/,
  );
  rejects('hour 24', { ...s, timestamp: '2026-02-27T24:00:00Z' }, /^timestamp: /);
  rejects('an event_id of 3 KB', { ...s, event_id: 'x'.repeat(3000) }, /event_id: must be at most 128/);

  it('gives the toISOString() shape the verdict of the general form', () => {
    // Without its milliseconds the same instant takes the regular expression: both must agree.
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const pad = (v: number, w: number) => String(v).padStart(w, '0');
    for (let i = 0; i < 20_000; i++) {
      const y = i % 3 === 0 ? rnd(10000) : 1890 + rnd(240);
      const head = `${pad(y, 4)}-${pad(rnd(14), 2)}-${pad(rnd(33), 2)}T${pad(rnd(26), 2)}:${pad(rnd(62), 2)}:${pad(rnd(62), 2)}`;
      const canonical = `${head}.${pad(rnd(1000), 3)}Z`;
      assert.equal(validTimestamp(canonical), validTimestamp(`${head}Z`), canonical);
    }
  });

  it('tells real instants from impossible ones', () => {
    for (const ok of [
      '2024-02-29T00:00:00Z',
      '2026-12-31T23:59:59.999999Z',
      '2026-01-01T00:00+15:59',
      '2026-01-01T00:00:00-1200',
    ])
      assert.ok(validTimestamp(ok), ok);
    for (const bad of [
      '2025-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T00:60:00Z',
      '2026-01-01T00:00:60Z',
      '2026-01-01T00:00:00',
      '10000-01-01T00:00:00Z',
    ])
      assert.ok(!validTimestamp(bad), bad);
    // The toISOString() shape is read by character codes: the same calendar, hand-picked edges.
    for (const ok of [
      '2024-02-29T23:59:59.999Z',
      '2000-02-29T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '0001-01-01T00:00:00.000Z',
    ])
      assert.ok(validTimestamp(ok), ok);
    for (const bad of [
      '2025-02-29T00:00:00.000Z',
      '2100-02-29T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T00:60:00.000Z',
      '2026-01-01T00:00:60.000Z',
      '0000-01-01T00:00:00.000Z',
      '2026-1a-01T00:00:00.000Z',
      '2026-01-01T00:00:00.00aZ',
      '2026-01-01 00:00:00.000Z',
    ])
      assert.ok(!validTimestamp(bad), bad);
    for (const ok of ['2026-03-02', '2026-03-04T10:16:30.551790', '2026-03-04T10:16:30Z'])
      assert.ok(validDateOrTimestamp(ok), ok);
    for (const bad of ['2026-02-31', '2026-03-04T25:00:00', '0000-01-01', '2026-3-4'])
      assert.ok(!validDateOrTimestamp(bad), bad);
  });
});
