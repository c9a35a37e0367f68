// The streaming worker's one retry loop (workers/streaming/retry.ts): its backoff, what ends it
// (success, an error retrying cannot cure, shutdown, the attempts of a start-up step) and the
// heartbeat that keeps the group membership during a wait.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, pause, retry, ShutdownError } from '../../workers/streaming/retry.ts';

const quick = { initialMs: 1, maxMs: 4 };

/** A step that fails `failures` times, then answers 'done'; it counts its calls. */
function flaky(failures: number, error = () => new Error('down')) {
  const step = async () => {
    step.calls++;
    if (step.calls <= failures) throw error();
    return 'done';
  };
  step.calls = 0;
  return step;
}

describe('retry backoff', () => {
  it('doubles from the first wait up to the cap', () => {
    const waits = Array.from({ length: 9 }, (_, a) => backoffMs(a, { initialMs: 250, maxMs: 15_000 }));
    assert.deepEqual(waits, [250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  });

  it('stays at the cap however many attempts failed', () => {
    assert.equal(backoffMs(10_000, { initialMs: 1000, maxMs: 10_000 }), 10_000);
    assert.equal(backoffMs(3, { initialMs: 2000, maxMs: 2000 }), 2000, 'a fixed wait');
  });
});

describe('retry', () => {
  it('retries until the step succeeds, telling each failure with its wait', async () => {
    const step = flaky(3);
    const told: [number, number][] = [];
    const out = await retry('step', step, {
      ...quick,
      onRetry: (_e, attempt, ms) => told.push([attempt, ms]),
    });
    assert.equal(out, 'done');
    assert.equal(step.calls, 4);
    assert.deepEqual(told, [
      [1, 1],
      [2, 2],
      [3, 4],
    ]);
  });

  it('throws an error retrying cannot cure at once', async () => {
    const step = flaky(5, () => new RangeError('fenced'));
    await assert.rejects(
      retry('step', step, { ...quick, isFinal: (e) => e instanceof RangeError }),
      RangeError,
    );
    assert.equal(step.calls, 1);
  });

  it('a ShutdownError from the step ends the retrying', async () => {
    const step = flaky(5, () => new ShutdownError('closing'));
    await assert.rejects(retry('step', step, quick), ShutdownError);
    assert.equal(step.calls, 1);
  });

  it('gives up with a ShutdownError when a step fails while the worker stops', async () => {
    const step = flaky(5);
    let stopping = false;
    const run = retry('hdfs', step, {
      ...quick,
      stopping: () => stopping,
      onRetry: () => {
        stopping = step.calls >= 2;
      },
    });
    await assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof ShutdownError);
      assert.match(err.message, /stopping while hdfs is failing/);
      return true;
    });
    assert.equal(step.calls, 3, 'the attempt after the stop began is the last');
  });

  it('throws the last error after the attempts of a start-up step', async () => {
    let n = 0;
    const step = async () => {
      n++;
      throw new Error(`failure ${n}`);
    };
    await assert.rejects(retry('start', step, { ...quick, attempts: 3 }), /failure 3/);
    assert.equal(n, 3);
  });

  it('one attempt is no retry', async () => {
    const step = flaky(1);
    await assert.rejects(retry('start', step, { ...quick, attempts: 1 }), /down/);
    assert.equal(step.calls, 1);
  });
});

describe('a wait between attempts', () => {
  it('heartbeats every second and once at its end, and outlives a failing heartbeat', async () => {
    let beats = 0;
    const heartbeat = async () => {
      beats++;
      throw new Error('the batch is over');
    };
    const started = Date.now();
    await pause(1100, heartbeat);
    assert.equal(beats, 2);
    assert.ok(Date.now() - started >= 1090);
  });

  it('heartbeats while a sink write waits for its retry', async () => {
    let beats = 0;
    const step = flaky(1);
    await retry('cassandra', step, {
      initialMs: 20,
      maxMs: 20,
      heartbeat: async () => {
        beats++;
      },
    });
    assert.equal(beats, 1);
    assert.equal(step.calls, 2);
  });
});
