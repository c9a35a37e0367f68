// Drift from per-store counts (activities/reconcile/hour-counts.ts): written by hand from what each
// store is owed, not from the code's own output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { driftOf, hasDrift, hoursBetween, keyOfInstant } from '../../activities/reconcile/hour-counts.ts';

const counts = { hdfs: 100, cassandra: 100, postgres: 100, marts: 100, dead_letters: 3, quarantined: 0 };

describe('reconcile drift', () => {
  it('every store holding what HDFS holds: no drift, whatever was dead-lettered', () => {
    assert.deepEqual(driftOf(counts, 100), { cassandra: 0, postgres: 0, marts: 0 });
  });

  it('a row missing from Cassandra or a raw table is drift of that store only', () => {
    assert.deepEqual(driftOf({ ...counts, cassandra: 99 }, 100), { cassandra: 1, postgres: 0, marts: 0 });
    // The marts still have the event: they are compared with HDFS, not with the raw tables.
    assert.deepEqual(driftOf({ ...counts, postgres: 99 }, 99), { cassandra: 0, postgres: 1, marts: 0 });
    assert.deepEqual(driftOf({ ...counts, marts: 98 }, 100), { cassandra: 0, postgres: 0, marts: 2 });
  });

  it('quarantined lines are not owed to the warehouse', () => {
    // 4 of HDFS's 100 lines were refused (a NUL, an int32 overflow): in rejected_lines instead.
    const c = { ...counts, postgres: 96, marts: 96, quarantined: 4 };
    assert.deepEqual(driftOf(c, 96), { cassandra: 0, postgres: 0, marts: 0 });
  });

  it('an id two types use is two events in the raw tables and one in the marts', () => {
    // 100 events, 99 distinct ids: fact_events keeps one of the pair.
    assert.deepEqual(driftOf({ ...counts, marts: 99 }, 99), { cassandra: 0, postgres: 0, marts: 0 });
  });

  it('a store holding more than HDFS drifts negative', () => {
    const d = driftOf({ ...counts, cassandra: 101 }, 100);
    assert.equal(d.cassandra, -1);
    assert.ok(hasDrift({ hour: '2026-12-02T05', closed: true, counts, drift: d }));
  });

  it('hours of a window, both ends included, across a day', () => {
    const hs = hoursBetween(new Date('2026-12-01T22:30:00Z'), new Date('2026-12-02T01:00:00Z'));
    assert.deepEqual(hs, [
      { dt: '2026-12-01', hour: 22 },
      { dt: '2026-12-01', hour: 23 },
      { dt: '2026-12-02', hour: 0 },
      { dt: '2026-12-02', hour: 1 },
    ]);
    assert.equal(keyOfInstant(new Date('2026-12-02T05:00:00Z')), '2026-12-02T05');
  });
});
