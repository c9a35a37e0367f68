import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stageP99 } from '../../bench/latency-bench.ts';
import { bucketQuantile, histogramBuckets } from '../../bench/prom-histogram.ts';

// Hand-written in Prometheus's text exposition format (cumulative buckets, +Inf last).
const TEXT = `# HELP logpipe_stream_stage_seconds Time of a chunk in each stage
# TYPE logpipe_stream_stage_seconds histogram
logpipe_stream_stage_seconds_bucket{le="0.01",stage="kafka"} 90
logpipe_stream_stage_seconds_bucket{le="0.1",stage="kafka"} 99
logpipe_stream_stage_seconds_bucket{le="1",stage="kafka"} 100
logpipe_stream_stage_seconds_bucket{le="+Inf",stage="kafka"} 100
logpipe_stream_stage_seconds_sum{stage="kafka"} 1.5
logpipe_stream_stage_seconds_count{stage="kafka"} 100
logpipe_stream_stage_seconds_bucket{le="0.01",stage="cassandra"} 10
logpipe_stream_stage_seconds_bucket{le="0.1",stage="cassandra"} 50
logpipe_stream_stage_seconds_bucket{le="1",stage="cassandra"} 100
logpipe_stream_stage_seconds_bucket{le="+Inf",stage="cassandra"} 100
logpipe_stream_batch_seconds_bucket{le="0.01"} 3
`;

describe('Prometheus histogram quantiles', () => {
  it('reads the buckets of one histogram by label and gives the bucket of a quantile', () => {
    const b = histogramBuckets(TEXT, 'logpipe_stream_stage_seconds', 'stage');
    assert.deepEqual([...b.keys()], ['kafka', 'cassandra']);
    assert.deepEqual(b.get('kafka')?.[3], [Number.POSITIVE_INFINITY, 100]);
    assert.equal(bucketQuantile(b.get('kafka') ?? [], 0.5), 0.01);
    assert.equal(bucketQuantile(b.get('kafka') ?? [], 0.99), 0.1);
    assert.equal(bucketQuantile(b.get('cassandra') ?? [], 0.99), 1);
    assert.equal(bucketQuantile([], 0.99), undefined);
  });

  it('gives the latency bench the p99 of each worker stage in ms', () => {
    assert.deepEqual(stageP99(TEXT), { kafka: 100, cassandra: 1000 });
  });
});
