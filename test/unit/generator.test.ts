import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCatalog, PRODUCT_COUNT, productStateAt, USER_COUNT } from '../../lib/catalog/catalog.ts';
import { COUNTRIES } from '../../lib/catalog/geography.ts';
import { DEFAULT_PARSE_OPTIONS, parseEvent } from '../../lib/events/parse.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator } from '../../producers/generator.ts';

const start = new Date('2026-03-01T00:00:00Z');

describe('event generator', () => {
  it('gives the same events for the same seed, and others for another seed', () => {
    const a = [...new EventGenerator({ seed: 7, start }).take(500)];
    const b = [...new EventGenerator({ seed: 7, start }).take(500)];
    const c = [...new EventGenerator({ seed: 8, start }).take(500)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('keeps the type mix near the original weights over many events', () => {
    const n = 40_000;
    const counts: Record<string, number> = {};
    for (const e of new EventGenerator({ seed: 'mix', start }).take(n))
      counts[e.event_type] = (counts[e.event_type] ?? 0) + 1;
    const expected = { search: 0.25, purchase: 0.25, order_complete: 0.2, order_failed: 0.2, error: 0.1 };
    for (const [type, w] of Object.entries(expected)) {
      const share = (counts[type] ?? 0) / n;
      assert.ok(Math.abs(share - w) < 0.02, `${type}: ${share.toFixed(3)} vs ${w}`);
    }
  });

  it('every generated event satisfies the contract', () => {
    const opts = { ...DEFAULT_PARSE_OPTIONS, now: start.getTime() + 3600_000 };
    for (const e of new EventGenerator({ seed: 'valid', start }).take(3000)) {
      const res = parseEvent(JSON.stringify(e), opts);
      assert.ok(res.ok, res.ok ? '' : `${res.reason}: ${res.detail}`);
    }
  });

  it('makes coherent sessions: one user and device, search before purchase, orders after their purchase', () => {
    const bySession = new Map<string, LogEvent[]>();
    for (const e of new EventGenerator({ seed: 'sessions', start }).take(20_000)) {
      bySession.set(e.session_id, [...(bySession.get(e.session_id) ?? []), e]);
    }
    let checkedOrders = 0;
    for (const events of bySession.values()) {
      assert.equal(new Set(events.map((e) => e.user_id)).size, 1);
      assert.equal(new Set(events.map((e) => e.device_type)).size, 1);
      const times = events.map((e) => Date.parse(e.timestamp));
      assert.deepEqual(
        times,
        [...times].sort((x, y) => x - y),
      );
      const purchased = new Map<string, number>();
      events.forEach((e, i) => {
        if (e.event_type === 'purchase' && e.details.order_id) purchased.set(e.details.order_id, i);
        if (e.event_type === 'order_complete' || e.event_type === 'order_failed') {
          const at = purchased.get(e.details.order_id);
          assert.ok(at !== undefined && at < i, `order ${e.details.order_id} follows its purchase`);
          assert.ok(e.details.payment_method, 'logpipe always sets payment_method');
          checkedOrders++;
        }
      });
      // An order completes at most once.
      const completed = events
        .filter((e) => e.event_type === 'order_complete')
        .map((e) => (e.event_type === 'order_complete' ? e.details.order_id : ''));
      assert.equal(new Set(completed).size, completed.length);
    }
    assert.ok(checkedOrders > 1000);
  });

  it('sets level from the type and the original session duration ranges', () => {
    for (const e of new EventGenerator({ seed: 'levels', start }).take(5000)) {
      assert.equal(e.level, e.event_type === 'error' || e.event_type === 'order_failed' ? 'ERROR' : 'INFO');
      if (e.event_type === 'search') assert.ok(e.session_duration >= 30 && e.session_duration <= 600);
      if (e.event_type === 'order_failed') assert.ok(e.session_duration >= 60 && e.session_duration <= 900);
    }
  });
});

describe('catalog', () => {
  it('is sized like the original, deterministic, with users in the original countries', () => {
    const a = buildCatalog('x');
    assert.equal(a.users.length, USER_COUNT);
    assert.equal(a.products.length, PRODUCT_COUNT);
    assert.deepEqual(buildCatalog('x').users[17], a.users[17]);
    assert.ok(a.users.every((u) => COUNTRIES.includes(u.country)));
    assert.ok(new Set(a.users.map((u) => u.country)).size === COUNTRIES.length);
    assert.ok(a.products.every((p) => p.base_price >= 1 && p.base_price <= 2954));
  });

  it('lets prices and stock drift slowly: changes within a day, bounded', () => {
    const products = buildCatalog('logpipe').products.slice(0, 200);
    let changed = 0;
    for (const p of products) {
      const s0 = productStateAt(p, new Date('2026-03-01T00:00:00Z'));
      const s1 = productStateAt(p, new Date('2026-03-01T12:00:00Z'));
      assert.deepEqual(productStateAt(p, new Date('2026-03-01T00:30:00Z')), s0, 'stable within an hour');
      if (s0.price !== s1.price || s0.stock !== s1.stock) changed++;
      assert.ok(Math.abs(s1.price - p.base_price) <= p.base_price * 0.13 + 0.01);
    }
    assert.ok(changed > 150, `${changed} of 200 products changed in 12 h`);
  });
});
