// CpuSampler on this machine's own /proc: windows are cut from real samples, so only the
// arithmetic's invariants are asserted (never a particular load).
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { describe, it } from 'node:test';
import { CpuSampler } from '../../bench/cpu-window.ts';

const spin = (ms: number) => {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
};

describe('CpuSampler', () => {
  it('counts a busy watched process within the machine’s busy cores', async () => {
    const t0 = Date.now();
    const sampler = new CpuSampler(() => [process.pid], 50);
    // Spin in slices so the interval timer gets to take its samples in between.
    for (let i = 0; i < 8; i++) {
      spin(60);
      await new Promise((r) => setTimeout(r, 1));
    }
    sampler.stop();
    const w = sampler.window(t0, Date.now());
    assert.ok(w, 'a window with samples');
    assert.equal(w.cores, cpus().length);
    assert.ok(w.seconds > 0.2, `sampled over ${w.seconds} s`);
    // This process spun most of the time: it is counted (other test files may share the cores).
    assert.ok(w.watched_cores > 0.05, `watched ${w.watched_cores}`);
    assert.ok(w.cores_busy > 0.05 && w.cores_busy <= w.cores + 0.01, `busy ${w.cores_busy}`);
    assert.ok(w.cores_stolen >= 0 && w.cores_busy + w.cores_stolen <= w.cores + 0.01, 'busy + stolen <= all');
    // /proc/stat and /proc/<pid>/stat tick separately: allow their rounding, not more.
    assert.ok(w.watched_cores <= w.cores_busy + 0.25, `${w.watched_cores} within ${w.cores_busy}`);
  });

  it('gives no window where fewer than two samples fall', () => {
    const sampler = new CpuSampler(() => [], 1000);
    sampler.stop();
    assert.equal(sampler.window(0, 1), null);
    assert.equal(sampler.window(Date.now() + 60_000, Date.now() + 120_000), null);
  });
});
