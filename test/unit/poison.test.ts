// The poison catalogue against the parser: what the contract refuses is refused with its field
// named, and what only a sink refuses passes the contract (the sink's own refusal is proven on the
// real stack by test/integration/poison.test.ts). The stored lines against the batch's parser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStoredLine } from '../../activities/rows.ts';
import { DEFAULT_PARSE_OPTIONS, parseEvent } from '../../lib/events/parse.ts';
import { POISON_ENV, poisonLines, poisonMessages } from '../fixtures/poison.ts';

const now = Date.parse('2026-12-02T12:00:00Z');
const opts = { ...DEFAULT_PARSE_OPTIONS, now, maxBytes: Number(POISON_ENV.MAX_EVENT_BYTES) };

describe('poison catalogue: messages', () => {
  const catalogue = poisonMessages(now, 'unit');
  it('covers every store limit of the issue, with unique ids', () => {
    assert.ok(catalogue.length >= 17);
    const kinds = new Set(catalogue.map((c) => c.expect.kind));
    assert.deepEqual([...kinds].sort(), ['dead-letter', 'sink-rejected', 'stored']);
  });
  for (const c of catalogue) {
    it(`${c.name}: ${c.expect.kind}`, () => {
      const r = parseEvent(c.bytes, opts);
      if (c.expect.kind === 'dead-letter') {
        assert.equal(r.ok, false, 'refused at the front door');
        if (r.ok) return;
        assert.equal(r.reason, c.expect.reason);
        if (c.expect.field) assert.match(r.detail, c.expect.field);
      } else {
        assert.equal(r.ok, true, r.ok ? '' : `${r.reason}: ${r.detail}`);
      }
    });
  }
  it('the id shared by two types is the same event_id in both', () => {
    const shared = catalogue.filter((c) => c.expect.kind === 'stored').map((c) => parseEvent(c.bytes, opts));
    assert.equal(shared.length, 2);
    const [a, b] = shared;
    assert.ok(a?.ok && b?.ok);
    assert.equal(a.event.event_id, b.event.event_id);
    assert.notEqual(a.event.event_type, b.event.event_type);
  });
});

describe('poison catalogue: lines left in HDFS', () => {
  for (const l of poisonLines(now, 'unit')) {
    it(`${l.name}: ${l.expect.kind}`, () => {
      const r = parseStoredLine(l.bytes.toString('utf8'));
      if (l.expect.kind === 'loaded') assert.equal(r.ok, true);
      else {
        assert.equal(r.ok, false);
        if (!r.ok) assert.match(r.error, l.expect.error);
      }
    });
  }
});
