// The sink's statements name only the columns an event has, so no parameter is null or unset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flattenEvent } from '../../lib/events/flatten.ts';
import { parseEvent } from '../../lib/events/parse.ts';
import { rowWrites, splitBatches } from '../../workers/streaming/cassandra-sink.ts';

// Hand-written from ../shared/seed/FACTS.md's shapes: an order_failed without payment_method.
const failed = {
  event_id: 'f-1',
  schema_version: 1,
  timestamp: '2026-11-30T10:15:00Z',
  event_type: 'order_failed',
  level: 'ERROR',
  service: 'payment-service',
  user_id: 'user_7',
  session_id: 's-1',
  product_id: 'prod_3',
  session_duration: 12.5,
  device_type: 'mobile',
  geo_location: { country: 'DE', city: 'Berlin' },
  details: { order_id: 'o-9', attempted_amount: 19.99, failed_at: '2026-11-30T10:15:01Z' },
};

function columns(query: string): string[] {
  return (/\(([^)]*)\) VALUES/.exec(query)?.[1] ?? '').split(', ');
}

describe('Cassandra row statements', () => {
  it('bind exactly the columns the event has, in the order the query names them', () => {
    const res = parseEvent(JSON.stringify(failed));
    assert.ok(res.ok);
    const flat = flattenEvent(res.event);
    const at = new Date('2026-11-30T10:16:00Z');
    const w = rowWrites(flat, at, 'ks');
    const cols = columns(w.log.query);
    assert.match(w.log.query, /^INSERT INTO ks\.ecomm_log /);
    assert.equal(cols.length, w.log.params.length);
    for (const p of w.log.params) assert.ok(p !== null && p !== undefined);
    const row = Object.fromEntries(cols.map((c, i) => [c, w.log.params[i]]));
    assert.equal(row.day, '2026-11-30');
    assert.equal(row.hour, 10);
    assert.equal(row.attempted_amount, 19.99);
    assert.equal(row.details_order_id, 'o-9');
    assert.equal(row.ingested_at, at);
    for (const absent of [
      'details_payment_method',
      'details_amount',
      'details_query',
      'error_code',
      'message',
    ])
      assert.ok(!cols.includes(absent), `${absent} left out`);

    const userCols = columns(w.byUser.query);
    assert.deepEqual(userCols.slice(0, 3), ['user_id', 'timestamp', 'event_id']);
    assert.ok(!userCols.includes('details_amount'));
    assert.equal(userCols.length, w.byUser.params.length);
  });

  it('reuse one query text per column set', () => {
    const a = parseEvent(JSON.stringify(failed));
    const b = parseEvent(
      JSON.stringify({
        ...failed,
        event_id: 'f-2',
        details: { ...failed.details, payment_method: 'paypal' },
      }),
    );
    assert.ok(a.ok && b.ok);
    const at = new Date();
    const wa = rowWrites(flattenEvent(a.event), at, 'ks');
    assert.equal(rowWrites(flattenEvent(a.event), at, 'ks').log.query, wa.log.query);
    const wb = rowWrites(flattenEvent(b.event), at, 'ks');
    assert.notEqual(wb.log.query, wa.log.query);
    assert.ok(columns(wb.log.query).includes('details_payment_method'));
  });
});

describe('Cassandra batches', () => {
  it('end at the row count or before the byte cap, whichever comes first, and keep every row once', () => {
    const rows = [100, 100, 30_000, 5_000, 40_000, 10, 10, 10, 30_000, 3_000].map((bytes, i) => ({
      i,
      bytes,
    }));
    const batches = splitBatches(rows, 3, 32 * 1024);
    assert.deepEqual(
      batches.map((b) => b.map((r) => r.i)),
      [[0, 1, 2], [3], [4], [5, 6, 7], [8], [9]],
    );
    // A single row over the cap still goes, alone (the server decides; the sink isolates refusals).
    assert.deepEqual(splitBatches([{ bytes: 99_999 }], 50, 1024), [[{ bytes: 99_999 }]]);
    assert.deepEqual(
      splitBatches(
        Array.from({ length: 7 }, () => ({ bytes: 1 })),
        3,
        1024,
      ).map((b) => b.length),
      [3, 3, 1],
    );
  });

  it('weigh a row by its text', () => {
    const res = parseEvent(JSON.stringify({ ...failed, details: { ...failed.details, reason: 'x' } }));
    assert.ok(res.ok);
    const flat = flattenEvent(res.event);
    const small = rowWrites(flat, new Date(), 'ks').log.bytes;
    const big = rowWrites({ ...flat, message: 'm'.repeat(20_000) }, new Date(), 'ks').log.bytes;
    assert.ok(big - small >= 20_000);
  });
});
