// The names of the HDFS raw layout: files by partition and offsets, and the epochs that claims,
// markers and claim folders are named by (the fencing of raw-file writers reads them back).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  claimsDir,
  epochName,
  epochOf,
  fencedDir,
  hourDir,
  markersDir,
  parseRawFileName,
  rawFileName,
  tmpDir,
} from '../../workers/streaming/raw-layout.ts';

describe('HDFS raw layout', () => {
  it('names a file by topic, partition and zero-padded offsets, and reads it back', () => {
    const name = rawFileName({ topic: 'LogEvents', partition: 3, firstOffset: 7n, lastOffset: 1200n });
    assert.equal(name, 'LogEvents+3+00000000000000000007+00000000000000001200.ndjson');
    assert.deepEqual(parseRawFileName(name), {
      topic: 'LogEvents',
      partition: 3,
      firstOffset: 7n,
      lastOffset: 1200n,
    });
    assert.equal(parseRawFileName('legacy-export.ndjson'), undefined);
  });
  it('puts an event in the UTC hour of its own timestamp', () => {
    assert.equal(
      hourDir('/logpipe/raw', 'LogEvents', new Date('2026-12-02T23:59:59+01:00')),
      '/logpipe/raw/LogEvents/dt=2026-12-02/hour=22',
    );
  });
  it('names claims, markers and claim folders by an epoch that sorts as text', () => {
    assert.equal(epochName(12), '0000000012');
    assert.ok(epochName(9) < epochName(10));
    assert.equal(epochOf('0000000012'), 12);
    assert.equal(epochOf('0000000012.json'), 12);
    assert.equal(epochOf('0000000012-a1b2c3d4e5f6'), 12);
    assert.equal(epochOf('12.json'), undefined, 'not a marker of this layout');
    assert.equal(epochOf('_tmp-0000000012'), undefined);
  });
  it('keeps the bookkeeping beside the data, under names readers skip', () => {
    for (const dir of [tmpDir, fencedDir, claimsDir, markersDir].map((f) => f('/r', 'LogEvents', 2))) {
      assert.match(dir, /^\/r\/_[a-z]+\/LogEvents\/2$/);
    }
  });
});
