// The latency bench's probe reads: grouped by hour partition, bounded per read, nothing dropped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROBE_READ_CQL, probeReadParams, probeReads } from '../../bench/latency-probes.ts';

const probe = (id: string, iso: string) => ({ id, at: new Date(iso) });

describe('latency probe reads', () => {
  it('groups probes by UTC day and hour, one read per partition', () => {
    const reads = probeReads([
      probe('a', '2026-12-07T23:59:59.999Z'),
      probe('b', '2026-12-08T00:00:00.000Z'),
      probe('c', '2026-12-07T23:00:00.000Z'),
    ]);
    assert.deepEqual(
      reads.map((r) => [r.day, r.hour, r.keys.map((k) => k.id)]),
      [
        ['2026-12-07', 23, ['a', 'c']],
        ['2026-12-08', 0, ['b']],
      ],
    );
  });

  it('splits a busy hour into reads of at most the cap, keeping every probe once', () => {
    const many = Array.from({ length: 130 }, (_, i) => probe(`p${i}`, '2026-12-07T10:15:00Z'));
    const reads = probeReads(many, 64);
    assert.deepEqual(
      reads.map((r) => r.keys.length),
      [64, 64, 2],
    );
    assert.deepEqual(
      reads.flatMap((r) => r.keys.map((k) => k.id)),
      many.map((p) => p.id),
    );
  });

  it('reads nothing when nothing is pending', () => {
    assert.deepEqual(probeReads([]), []);
  });

  it('binds day, hour, then each (timestamp, event_id) pair in the order of the statement', () => {
    const [read] = probeReads([probe('x', '2026-12-07T05:00:01Z'), probe('y', '2026-12-07T05:59:00Z')]);
    assert.ok(read);
    const params = probeReadParams(read);
    assert.deepEqual(params, [
      '2026-12-07',
      5,
      new Date('2026-12-07T05:00:01Z'),
      'x',
      new Date('2026-12-07T05:59:00Z'),
      'y',
    ]);
    const markers = PROBE_READ_CQL(read.keys.length).match(/\?/g)?.length;
    assert.equal(markers, params.length);
    assert.match(PROBE_READ_CQL(2), /\(timestamp, event_id\) IN \(\(\?, \?\), \(\?, \?\)\)$/);
  });
});
