// The streaming worker's own names in HDFS: the epochs that claims, markers and claim folders are
// named by (the fencing of raw-file writers reads them back). The data layout: hdfs-layout.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  claimsDir,
  epochName,
  epochOf,
  fencedDir,
  markerName,
  markerOrder,
  markersDir,
  ndjsonBody,
  planFiles,
  tmpDir,
} from '../../workers/streaming/raw-layout.ts';

describe('streaming worker bookkeeping names', () => {
  it('names claims, markers and claim folders by an epoch that sorts as text', () => {
    assert.equal(epochName(12), '0000000012');
    assert.ok(epochName(9) < epochName(10));
    assert.equal(epochOf('0000000012'), 12);
    assert.equal(epochOf('0000000012.json'), 12);
    assert.equal(epochOf('0000000012-a1b2c3d4e5f6'), 12);
    assert.equal(epochOf('12.json'), undefined, 'not a marker of this layout');
    assert.equal(epochOf('_tmp-0000000012'), undefined);
  });
  it('names each marker write anew: epoch and a sequence, read back as numbers', () => {
    assert.equal(markerName(3, 7), '0000000003.0000000007.json');
    assert.equal(epochOf(markerName(3, 7)), 3);
    assert.deepEqual(markerOrder(markerName(3, 10)), { epoch: 3, seq: 10 });
    assert.deepEqual(markerOrder('0000000003.json'), { epoch: 3, seq: 0 }, 'a marker from before sequences');
    assert.equal(markerOrder('0000000003.7.json'), undefined);
    assert.equal(markerOrder('0000000003-a1b2c3d4e5f6'), undefined, 'a claim folder is no marker');
  });
  it('keeps the bookkeeping beside the data, under names readers skip', () => {
    for (const dir of [tmpDir, fencedDir, claimsDir, markersDir].map((f) => f('/r', 'LogEvents', 2))) {
      assert.match(dir, /^\/r\/_[a-z]+\/LogEvents\/2$/);
    }
  });
});

describe('raw file bodies and their hours', () => {
  const enc = (s: string) => Buffer.from(s, 'utf8');
  it('writes each line followed by one newline, bytes as they came (multi-byte included)', () => {
    const body = ndjsonBody([enc('{"a":1}'), enc('{"city":"São Paulo"}'), enc('')]);
    assert.equal(body.toString('utf8'), '{"a":1}\n{"city":"São Paulo"}\n\n');
    assert.equal(ndjsonBody([]).length, 0);
  });
  it("splits a roll into one file per UTC hour of the events' own time, in hour order", () => {
    const at = (iso: string) => new Date(iso);
    const plans = planFiles('/r', 'LogEvents', 3, [
      { offset: 10n, at: at('2026-03-01T10:59:59.999Z'), line: enc('a') },
      { offset: 11n, at: at('2026-03-01T09:00:00.000Z'), line: enc('b') },
      { offset: 12n, at: at('2026-03-01T10:00:00.000Z'), line: enc('c') },
      { offset: 13n, at: at('2026-02-28T23:30:00.000Z'), line: enc('d') },
    ]);
    assert.deepEqual(
      plans.map((p) => [p.dir, p.lines.map((l) => Buffer.from(l).toString())]),
      [
        ['/r/LogEvents/dt=2026-02-28/hour=23', ['d']],
        ['/r/LogEvents/dt=2026-03-01/hour=09', ['b']],
        ['/r/LogEvents/dt=2026-03-01/hour=10', ['a', 'c']],
      ],
    );
    // Each file is named by the first and last offset of its own lines.
    assert.equal(plans[2]?.name, 'LogEvents+3+00000000000000000010+00000000000000000012.ndjson');
  });
});
