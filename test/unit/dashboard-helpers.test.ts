// The dashboard's pure helpers: query parameters, Prometheus text, the dbt summary of a batch run
// and the stale-while-revalidate cache.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dbtSummary } from '../../dashboard/monitoring/batch-runs.ts';
import { parsePrometheus } from '../../dashboard/monitoring/stream-metrics.ts';
import { BadRequest, eventFilterParams, noParams, rangeParams } from '../../dashboard/params.ts';
import { SwrCache } from '../../dashboard/swr.ts';

const q = (s: string) => new URLSearchParams(s);

describe('dashboard query parameters', () => {
  it('turns a named range into from and to', () => {
    const r = rangeParams(q('range=1h'));
    assert.equal(r.to.getTime() - r.from.getTime(), 3_600_000);
  });

  it('names the parameter in every refusal', () => {
    const cases: [string, RegExp][] = [
      ['range=2h', /^range: expected one of 15m, 1h/],
      ['from=yesterday', /^from: expected an ISO 8601 date/],
      ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', /^from: must be before to/],
      ['colour=red', /^colour: unknown parameter/],
      ['range=1h&range=6h', /^range: given more than once/],
    ];
    for (const [query, message] of cases) {
      assert.throws(
        () => rangeParams(q(query)),
        (err: Error) => err instanceof BadRequest && message.test(err.message),
        query,
      );
    }
    assert.throws(() => noParams(q('x=1')), BadRequest);
  });

  it('reads event filters, normalising country and text', () => {
    const f = eventFilterParams(q('type=error&level=ERROR&country=us&q=%20Payment%20&limit=10'));
    assert.equal(f.type, 'error');
    assert.equal(f.level, 'ERROR');
    assert.equal(f.country, 'US');
    assert.equal(f.q, 'payment');
    assert.equal(f.limit, 10);
    assert.throws(() => eventFilterParams(q('type=click')), /type: expected one of search/);
  });
});

describe('Prometheus text', () => {
  it('reads samples with labels, escapes and comments', () => {
    const text = [
      '# HELP logpipe_stream_dead_lettered_total messages sent to the dead-letter topic',
      '# TYPE logpipe_stream_dead_lettered_total counter',
      'logpipe_stream_dead_lettered_total{reason="invalid_json"} 3',
      'logpipe_stream_dead_lettered_total{reason="say \\"hi\\""} 2',
      'logpipe_stream_consumed_total 120',
      '',
    ].join('\n');
    const m = parsePrometheus(text);
    assert.deepEqual(m.get('logpipe_stream_dead_lettered_total'), [
      { labels: { reason: 'invalid_json' }, value: 3 },
      { labels: { reason: 'say "hi"' }, value: 2 },
    ]);
    assert.deepEqual(m.get('logpipe_stream_consumed_total'), [{ labels: {}, value: 120 }]);
  });
});

describe('dbt summary of a batch run', () => {
  it('counts models and tests and names what failed', () => {
    const s = dbtSummary({
      models: [{ name: 'fact_events' }, { name: 'fact_orders' }],
      tests: [
        { name: 'unique_fact_events_event_id', status: 'pass' },
        { name: 'assert_revenue_never_negative', status: 'fail' },
        { name: 'relationships_x', status: 'warn', failures: 4 },
      ],
    });
    assert.deepEqual(s, {
      ran: true,
      reason: null,
      models: 2,
      tests: 3,
      passed: 1,
      warned: 1,
      warnings: [{ name: 'relationships_x', failures: 4 }],
      failed: ['assert_revenue_never_negative: fail'],
    });
  });

  it('says when a run had nothing new for dbt', () => {
    const s = dbtSummary({
      ran: false,
      reason: 'nothing loaded since 2026-12-03 09:00:00+00',
      models: [],
      tests: [],
    });
    assert.equal(s.ran, false);
    assert.equal(s.reason, 'nothing loaded since 2026-12-03 09:00:00+00');
    assert.equal(s.tests, 0);
  });
});

describe('stale-while-revalidate cache', () => {
  it('shares one computation between concurrent callers and serves a fresh value as is', async () => {
    const cache = new SwrCache<number>(60_000, 120_000);
    let calls = 0;
    const compute = async () => {
      calls++;
      return calls;
    };
    const [a, b] = await Promise.all([cache.get('k', compute), cache.get('k', compute)]);
    assert.deepEqual([a, b, calls], [1, 1, 1]);
    assert.equal(await cache.get('k', compute), 1);
    assert.equal(calls, 1);
  });

  it('serves a stale value while one refresh runs, then the new value', async () => {
    const cache = new SwrCache<string>(0, 60_000);
    assert.equal(await cache.get('k', async () => 'old'), 'old');
    let release: (v: string) => void = () => {};
    const slow = new Promise<string>((r) => {
      release = r;
    });
    assert.equal(await cache.get('k', () => slow), 'old');
    release('new');
    await slow;
    await new Promise((r) => setImmediate(r));
    assert.equal(await cache.get('k', () => new Promise<string>(() => {})), 'new');
  });
});
