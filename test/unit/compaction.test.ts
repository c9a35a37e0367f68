import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFirstCopy } from '../../activities/compact-hour.ts';
import { EventKeySet } from '../../activities/event-key-set.ts';
import { refusedRow } from '../../activities/load-file.ts';
import { csvLine, splitLines } from '../../activities/rows.ts';
import { EventGenerator } from '../../producers/generator.ts';

/** The lines of `texts` compaction keeps, in order, as its streaming merge does. */
const merged = (texts: string[]) => {
  const seen = new EventKeySet();
  return texts.flatMap((t) => t.split('\n')).filter((line) => line && isFirstCopy(seen, line));
};

describe('compaction and row mapping', () => {
  it('merges files keeping one copy per event_id, in first-seen order', () => {
    const a = ['{"event_id":"1","n":1}', '{"event_id":"2","n":2}'].join('\n');
    const b = ['{"event_id":"2","n":2}', '{"event_id":"3","n":3}', ''].join('\n');
    assert.deepEqual(merged([a, b]), [
      '{"event_id":"1","n":1}',
      '{"event_id":"2","n":2}',
      '{"event_id":"3","n":3}',
    ]);
  });

  it('keeps two events of different types that share an id', () => {
    const a = '{"event_id":"1","event_type":"search"}';
    const b = '{"event_id":"1","event_type":"purchase"}';
    assert.deepEqual(merged([`${a}\n${b}`, a]), [a, b]);
  });

  it('keeps lines that are not JSON or have no id once each, byte for byte', () => {
    const lines = ['not json', '{"n":1}', 'not json', '{"n":1}', '{"n": 1}', 'null', '3', 'null'];
    assert.deepEqual(merged([lines.join('\n')]), ['not json', '{"n":1}', '{"n": 1}', 'null', '3']);
  });

  it('quotes CSV fields so commas, quotes, backslashes and newlines survive COPY, and writes NULL as empty', () => {
    assert.equal(
      csvLine(['a,b', 'say "hi"', 'x\ny', null, 3, '', 'plain', 'c:\\dir']),
      '"a,b","say ""hi""","x\ny",,3,"",plain,"c:\\dir"\n',
    );
  });

  it('names the row PostgreSQL refused in a COPY, and only for errors about the row', () => {
    const where = 'COPY search_response, line 3, column results_count: "3000000000"';
    assert.equal(refusedRow({ code: '22003', where }, 5), 2);
    assert.equal(refusedRow({ code: '54000', where: 'COPY x, line 1' }, 5), 0);
    assert.equal(refusedRow({ code: '23505', where }, 5), undefined, 'a duplicate goes to staging');
    assert.equal(refusedRow({ code: '08006', where }, 5), undefined, 'a lost connection is retried');
    assert.equal(
      refusedRow({ code: '22003', where: 'COPY x, line 9' }, 5),
      undefined,
      'beyond the rows sent',
    );
    assert.equal(refusedRow({ code: '22003' }, 5), undefined);
  });

  it('splits lines by type, dropping repeats within a file and listing contract failures', async () => {
    const events = [
      ...new EventGenerator({ seed: 'rows', start: new Date('2026-03-01T00:00:00Z') }).take(200),
    ];
    const lines = [...events.map((e) => JSON.stringify(e)), JSON.stringify(events[0]), 'not json'];
    const split = await splitLines(lines.join('\n'));
    assert.equal(split.lines, 202);
    assert.deepEqual(
      split.refused.map((r) => [r.lineNo, r.stage, r.error.split(':')[0]]),
      [[202, 'contract', 'invalid_json']],
    );
    // Each CSV row knows its line in the file, for the quarantine of a row PostgreSQL refuses.
    const firstSearch = events.findIndex((e) => e.event_type === 'search');
    assert.equal(split.lineNos.search[0], firstSearch + 1);
    assert.equal(split.lineNos.search.length, split.csv.search.length);
    assert.equal(split.eventIds.size, 200);
    const total = Object.values(split.csv).reduce((n, rows) => n + rows.length, 0);
    assert.equal(total, 200);
    assert.equal(split.csv.search.length, events.filter((e) => e.event_type === 'search').length);
  });
});
