import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPES } from '../../lib/events/enums.ts';
import { flattenEvent } from '../../lib/events/flatten.ts';
import { DEFAULT_PARSE_OPTIONS, deriveEventId, parseEvent } from '../../lib/events/parse.ts';
import { EventGenerator, toOriginalFormat } from '../../producers/generator.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const opts = { ...DEFAULT_PARSE_OPTIONS, now: NOW };
const gen = () => new EventGenerator({ seed: 'contract', start: new Date(NOW - 3600_000) });

function sampleOf(type: string) {
  const g = gen();
  for (;;) {
    const e = g.next();
    if (e.event_type === type) return e;
  }
}

describe('event contract', () => {
  for (const type of EVENT_TYPES) {
    it(`accepts a generated ${type} event and flattens it`, () => {
      const e = sampleOf(type);
      const res = parseEvent(JSON.stringify(e), opts);
      assert.ok(res.ok, res.ok ? '' : res.detail);
      assert.equal(res.event.event_id, e.event_id);
      const flat = flattenEvent(res.event);
      assert.equal(flat.event_type, type);
      assert.equal(flat.geo_country, e.geo_location.country);
      assert.equal(flat.timestamp.toISOString(), e.timestamp);
    });
  }

  const base = () => sampleOf('purchase') as unknown as Record<string, unknown>;
  const cases: [string, () => Uint8Array | string, string, RegExp?][] = [
    ['invalid JSON', () => '{"event_type": "search",', 'invalid_json'],
    ['JSON that is not an object', () => '[1,2,3]', 'not_an_object', /array/],
    ['a JSON string', () => '"hello"', 'not_an_object', /string/],
    [
      'a missing required field',
      () => {
        const e = base();
        delete e.user_id;
        return JSON.stringify(e);
      },
      'schema_violation',
      /user_id/,
    ],
    [
      'a wrong type',
      () => JSON.stringify({ ...base(), session_duration: 'long' }),
      'schema_violation',
      /session_duration/,
    ],
    [
      'an unknown event type',
      () => JSON.stringify({ ...base(), event_type: 'refund' }),
      'unknown_event_type',
      /refund/,
    ],
    ['an oversized message', () => JSON.stringify({ ...base(), padding: 'x'.repeat(70_000) }), 'too_large'],
    [
      'invalid UTF-8',
      () => Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      'invalid_utf8',
    ],
    [
      'a timestamp far in the future',
      () => JSON.stringify({ ...base(), timestamp: '2099-01-01T00:00:00Z' }),
      'timestamp_out_of_range',
    ],
    [
      'a timestamp far in the past',
      () => JSON.stringify({ ...base(), timestamp: '1999-01-01T00:00:00Z' }),
      'timestamp_out_of_range',
    ],
    [
      'a timestamp without a zone',
      () => JSON.stringify({ ...base(), timestamp: '2026-06-01 11:00:00' }),
      'schema_violation',
      /timestamp/,
    ],
    [
      'a negative amount',
      () => {
        const e = base();
        return JSON.stringify({ ...e, details: { ...(e.details as object), amount: -5 } });
      },
      'schema_violation',
      /amount/,
    ],
    ['an empty service', () => JSON.stringify({ ...base(), service: ' ' }), 'schema_violation', /service/],
    [
      'deeply nested objects',
      () => {
        let v: unknown = 1;
        for (let i = 0; i < 20; i++) v = { v };
        return JSON.stringify({ ...base(), extra: v });
      },
      'too_deep',
    ],
  ];
  for (const [name, make, reason, detail] of cases) {
    it(`rejects ${name} with reason ${reason}`, () => {
      const res = parseEvent(make(), opts);
      assert.equal(res.ok, false);
      if (res.ok) return;
      assert.equal(res.reason, reason);
      if (detail) assert.match(res.detail, detail);
    });
  }

  it('keeps strings that look like SQL or CQL as plain data', () => {
    const e = sampleOf('search') as unknown as { details: Record<string, unknown> };
    const evil = "'; DROP TABLE logs.ecomm_log; --";
    const res = parseEvent(JSON.stringify({ ...e, details: { ...e.details, query: evil } }), opts);
    assert.ok(res.ok);
    assert.equal(flattenEvent(res.event).details_query, evil);
  });

  it('derives a stable id for events without one, from their bytes', () => {
    const original = JSON.stringify(toOriginalFormat(sampleOf('order_complete')));
    const a = parseEvent(original, opts);
    const b = parseEvent(original, opts);
    assert.ok(a.ok && b.ok);
    assert.equal(a.event.event_id, b.event.event_id);
    assert.equal(a.event.event_id, deriveEventId(Buffer.from(original)));
    assert.match(a.event.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(a.event.schema_version, 1);
    // A different line gets a different id.
    const other = parseEvent(original.replace('"level":"INFO"', '"level": "INFO"'), opts);
    assert.ok(other.ok);
    assert.notEqual(other.event.event_id, a.event.event_id);
  });

  it('accepts the original format, where order events have no payment_method', () => {
    for (const type of ['order_complete', 'order_failed']) {
      const res = parseEvent(JSON.stringify(toOriginalFormat(sampleOf(type))), opts);
      assert.ok(res.ok, res.ok ? '' : res.detail);
      assert.equal(flattenEvent(res.event).details_payment_method, null);
    }
  });

  it('keeps unknown extra fields in the stored line', () => {
    const e = { ...sampleOf('error'), campaign: { id: 'black-friday' }, trace_id: 'abc' };
    const res = parseEvent(JSON.stringify(e), opts);
    assert.ok(res.ok);
    const stored = JSON.parse(res.line) as Record<string, unknown>;
    assert.deepEqual(stored.campaign, { id: 'black-friday' });
    assert.equal(stored.trace_id, 'abc');
    assert.equal(stored.event_id, e.event_id);
  });

  it('stores events that arrived without an id with their derived id and version', () => {
    const line = JSON.stringify(toOriginalFormat(sampleOf('search')));
    const res = parseEvent(line, opts);
    assert.ok(res.ok);
    const stored = JSON.parse(res.line) as Record<string, unknown>;
    assert.equal(stored.event_id, res.event.event_id);
    assert.equal(stored.schema_version, 1);
  });

  it('stores one line even when the message was pretty-printed', () => {
    const res = parseEvent(JSON.stringify(sampleOf('search'), null, 2), opts);
    assert.ok(res.ok);
    assert.equal(res.line.includes('\n'), false);
  });
});
