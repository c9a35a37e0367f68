import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { EventKeySet } from '../../activities/event-key-set.ts';

describe('the compaction key set', () => {
  it('finds every repeat among 300,000 UUID ids, across its growth, and nothing else', () => {
    const set = new EventKeySet();
    const ids = Array.from({ length: 150_000 }, () => randomUUID());
    for (const id of ids) assert.equal(set.add('search', id, ''), true);
    // The same ids again: all repeats, whichever order.
    for (let i = ids.length - 1; i >= 0; i -= 7) assert.equal(set.add('search', ids[i] as string, ''), false);
    // Fresh ids after the repeats: still new.
    for (let i = 0; i < 150_000; i++) assert.equal(set.add('search', randomUUID(), ''), true);
    assert.equal(set.size, 300_000);
  });

  it('tells apart ids that differ in one bit, and the same id under two types', () => {
    const set = new EventKeySet();
    const id = '00000000-0000-4000-8000-000000000000';
    assert.equal(set.add('search', id, ''), true);
    assert.equal(set.add('purchase', id, ''), true, 'an id two types use names two events');
    assert.equal(set.add('search', '00000000-0000-4000-8000-000000000001', ''), true);
    assert.equal(set.add('search', '80000000-0000-4000-8000-000000000000', ''), true);
    assert.equal(set.add('search', id, ''), false);
    assert.equal(set.add('purchase', id, ''), false);
  });

  it('keeps other ids as their exact strings: case, other shapes, no id', () => {
    const set = new EventKeySet();
    const lower = '3f2a9c1e-7b4d-4e8f-9a6b-1c2d3e4f5a6b';
    assert.equal(set.add('search', lower, ''), true);
    // An upper-case UUID is another string, so another id (PostgreSQL's text key says so too).
    assert.equal(set.add('search', lower.toUpperCase(), ''), true);
    assert.equal(set.add('search', lower.toUpperCase(), ''), false);
    assert.equal(set.add('search', 'order-42', ''), true);
    assert.equal(set.add('search', 'order-42', ''), false);
    assert.equal(set.add('error', 'order-42', ''), true);
    // The packed and the string forms never meet: "search:<uuid>" as an id of another shape.
    assert.equal(set.add('search', `x${lower}`, ''), true);
    // Without an id the line is the key.
    assert.equal(set.add('', undefined, 'not json'), true);
    assert.equal(set.add('', undefined, 'not json'), false);
    assert.equal(set.add('', undefined, 'not json '), true);
    assert.equal(set.size, 7);
  });
});
