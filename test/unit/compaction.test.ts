import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeByEventId } from '../../activities/compact-hour.ts';
import { csvLine, splitLines } from '../../activities/rows.ts';
import { EventGenerator } from '../../producers/generator.ts';

describe('compaction and row mapping', () => {
  it('merges files keeping one copy per event_id, in first-seen order', () => {
    const a = ['{"event_id":"1","n":1}', '{"event_id":"2","n":2}'].join('\n');
    const b = ['{"event_id":"2","n":2}', '{"event_id":"3","n":3}', ''].join('\n');
    assert.deepEqual(mergeByEventId([a, b]), [
      '{"event_id":"1","n":1}',
      '{"event_id":"2","n":2}',
      '{"event_id":"3","n":3}',
    ]);
  });

  it('quotes CSV fields so commas, quotes, backslashes and newlines survive COPY, and writes NULL as empty', () => {
    assert.equal(
      csvLine(['a,b', 'say "hi"', 'x\ny', null, 3, '', 'plain', 'c:\\dir']),
      '"a,b","say ""hi""","x\ny",,3,"",plain,"c:\\dir"\n',
    );
  });

  it('splits lines by type, dropping repeats within a file and counting contract failures', async () => {
    const events = [
      ...new EventGenerator({ seed: 'rows', start: new Date('2026-03-01T00:00:00Z') }).take(200),
    ];
    const lines = [...events.map((e) => JSON.stringify(e)), JSON.stringify(events[0]), 'not json'];
    const split = await splitLines(lines.join('\n'));
    assert.equal(split.lines, 202);
    assert.equal(split.rejected, 1);
    assert.equal(split.eventIds.size, 200);
    const total = Object.values(split.csv).reduce((n, rows) => n + rows.length, 0);
    assert.equal(total, 200);
    assert.equal(split.csv.search.length, events.filter((e) => e.event_type === 'search').length);
  });
});
