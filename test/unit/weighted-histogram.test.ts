// The weighted histogram against prom-client's own Histogram: fed the same observations (n calls
// of observe for one call with count n), both registries must write the same exposition text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { WeightedHistogram } from '../../lib/weighted-histogram.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const options = { name: 'x_stage_seconds', help: 'Time per stage', buckets: BUCKETS };

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ ...options, labelNames: ['stage'], registers: [theirs] });
  const weighted = new WeightedHistogram({ ...options, labelName: 'stage', registers: [ours] });
  return { theirs, ours, reference, weighted };
}

describe('weighted histogram', () => {
  it('writes what prom-client writes for the same observations', async () => {
    const { theirs, ours, reference, weighted } = pair();
    const observe = { a: weighted.labels('kafka'), b: weighted.labels('cassandra') };
    // Exact binary fractions (k/64), bucket bounds themselves, and values past the last bound.
    const seen: [keyof typeof observe, number, number][] = [
      ['a', 0.005, 3],
      ['a', 1 / 64, 7],
      ['a', 10, 1],
      ['a', 12.5, 2],
      ['b', 0.25, 50],
      ['b', 0, 4],
      ['b', 3 / 64, 1],
    ];
    for (const [which, value, n] of seen) {
      observe[which](value, n);
      for (let i = 0; i < n; i++) reference.observe({ stage: which === 'a' ? 'kafka' : 'cassandra' }, value);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
    assert.match(await ours.metrics(), /x_stage_seconds_bucket\{le="\+Inf",stage="cassandra"\} 55/);
  });

  it('counts one observation when no count is given, and refuses what is not a number', async () => {
    const { theirs, ours, reference, weighted } = pair();
    const q = weighted.labels('queue');
    for (const v of [0.001, 0.3, 7]) {
      q(v);
      reference.observe({ stage: 'queue' }, v);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.throws(() => q(Number.NaN), TypeError);
    assert.throws(() => q(Number.POSITIVE_INFINITY), TypeError);
    assert.match(await ours.metrics(), /x_stage_seconds_count\{stage="queue"\} 3\n/);
  });

  it('writes nothing for a series with no observations, also after a reset', async () => {
    const { ours, weighted } = pair();
    const q = weighted.labels('queue');
    assert.doesNotMatch(await ours.metrics(), /x_stage_seconds_count/);
    q(0.2, 5);
    ours.resetMetrics();
    assert.doesNotMatch(await ours.metrics(), /x_stage_seconds_count/);
    q(0.2, 2);
    assert.match(await ours.metrics(), /x_stage_seconds_count\{stage="queue"\} 2\n/);
  });
});
