// The bad-input catalogue against the parser: each class gets its outcome (the end-to-end test
// checks the same catalogue through Kafka and every store).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEvent } from '../../lib/events/parse.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { badInputs, CQL_INJECTION, SQL_INJECTION } from '../fixtures/bad-inputs.ts';

const base = [...new EventGenerator({ seed: 'catalogue', start: new Date(Date.now() - 3600_000) }).take(200)];
const catalogue = badInputs(base, 'unit');

describe('bad-input catalogue', () => {
  it('covers at least twelve classes', () => {
    const classes = new Set(catalogue.map((c) => c.name.replace(/, second copy$/, '')));
    assert.ok(classes.size >= 12, `${classes.size} classes`);
  });

  for (const c of catalogue) {
    it(`${c.name}: ${c.expect.kind === 'dead-letter' ? `dead-lettered as ${c.expect.reason}` : 'stored as data'}`, () => {
      const r = parseEvent(c.bytes);
      if (c.expect.kind === 'dead-letter') {
        assert.equal(r.ok, false);
        if (!r.ok) {
          assert.equal(r.reason, c.expect.reason);
          assert.ok(r.detail.length > 0, 'a detail says what is wrong');
        }
      } else {
        assert.equal(r.ok, true, r.ok ? '' : `${r.reason}: ${r.detail}`);
        if (r.ok) assert.equal(r.event.event_id, c.expect.eventId);
      }
    });
  }

  it('keeps injection-looking strings verbatim', () => {
    const stored = catalogue.flatMap((c) => {
      const r = parseEvent(c.bytes);
      return r.ok && r.event.event_type === 'search' ? [r.event.details.query] : [];
    });
    assert.deepEqual(stored.sort(), [CQL_INJECTION, SQL_INJECTION].sort());
  });
});
