// The streaming worker's per-partition state without any I/O: the buffer of raw lines waiting for
// their roll into HDFS, and the offsets that decide what may be skipped and what may be committed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commitOffsetAfter, OffsetTracker } from '../../workers/streaming/offset-tracker.ts';
import { PartitionBuffer } from '../../workers/streaming/partition-buffer.ts';
import { rollPhase } from '../../workers/streaming/partition-pipeline.ts';
import type { PendingLine } from '../../workers/streaming/raw-layout.ts';

const at = new Date('2026-01-02T03:04:05Z');
/** A line of `bytes` bytes at this offset. */
const lineAt = (offset: bigint, bytes = 3): PendingLine => ({ offset, at, line: new Uint8Array(bytes) });
const limits = { maxEvents: 3, maxBytes: 100 };

describe('partition buffer', () => {
  it('counts each line with its newline', () => {
    const b = new PartitionBuffer();
    b.add([lineAt(0n, 3), lineAt(1n, 0)], 1000);
    assert.equal(b.length, 2);
    assert.equal(b.pendingBytes, 4 + 1);
  });

  it('takes everything for a roll, in order, and is empty after', () => {
    const b = new PartitionBuffer();
    b.add([lineAt(5n)], 1000);
    b.add([lineAt(6n), lineAt(7n)], 1001);
    assert.deepEqual(
      b.takeRoll().map((l) => l.offset),
      [5n, 6n, 7n],
    );
    assert.equal(b.length, 0);
    assert.equal(b.pendingBytes, 0);
    assert.deepEqual(b.takeRoll(), []);
  });

  it('a roll taken from an empty buffer is empty and leaves it usable', () => {
    const b = new PartitionBuffer();
    assert.deepEqual(b.takeRoll(), []);
    b.add([lineAt(1n)], 0);
    assert.equal(b.length, 1);
  });

  it('ages from the first line added to an empty buffer, not from later ones', () => {
    const b = new PartitionBuffer();
    b.add([lineAt(0n)], 1000);
    b.add([lineAt(1n)], 4000);
    assert.equal(b.dueBySlot(1999, 1000, 0), false);
    assert.equal(b.dueBySlot(2000, 1000, 0), true);
  });

  it('an empty buffer is never due, and ages anew after a roll', () => {
    const b = new PartitionBuffer();
    assert.equal(b.dueBySlot(Number.MAX_SAFE_INTEGER, 0, 0), false);
    b.add([lineAt(0n)], 1000);
    b.takeRoll();
    assert.equal(b.dueBySlot(10_000, 1000, 500), false);
    b.add([lineAt(1n)], 9500);
    assert.equal(b.dueBySlot(10_000, 1000, 500), false);
    assert.equal(b.dueBySlot(10_499, 1000, 500), false);
    assert.equal(b.dueBySlot(10_500, 1000, 500), true);
  });

  it('adding no lines does not start the age clock', () => {
    const b = new PartitionBuffer();
    b.add([], 1000);
    b.add([lineAt(0n)], 5000);
    assert.equal(b.dueBySlot(5999, 1000, 0), false);
  });

  it('is due at the first slot boundary after the oldest line, before its full age', () => {
    const b = new PartitionBuffer();
    b.add([lineAt(0n)], 10_900);
    assert.equal(b.dueBySlot(11_299, 1000, 300), false);
    assert.equal(b.dueBySlot(11_300, 1000, 300), true, 'boundary 11,300 passed: 400 ms of age');
  });

  it('a line that arrives exactly on a boundary waits the whole interval', () => {
    const b = new PartitionBuffer();
    b.add([lineAt(0n)], 11_300);
    assert.equal(b.dueBySlot(12_299, 1000, 300), false);
    assert.equal(b.dueBySlot(12_300, 1000, 300), true);
  });

  it('no line waits longer than the age, on any phase and at any arrival', () => {
    const maxAge = 1000;
    for (let phase = 0; phase < maxAge; phase += 37) {
      for (let first = 50_000; first < 52_000; first += 53) {
        const b = new PartitionBuffer();
        b.add([lineAt(0n)], first);
        assert.equal(b.dueBySlot(first + maxAge, maxAge, phase), true, `phase ${phase}, first ${first}`);
        // Due exactly once per slot: never before the next boundary after `first`.
        const nextBoundary = phase + Math.floor((first - phase) / maxAge + 1) * maxAge;
        assert.equal(b.dueBySlot(nextBoundary - 1, maxAge, phase), false);
        assert.equal(b.dueBySlot(nextBoundary, maxAge, phase), true);
      }
    }
  });

  it('counts no boundary before the quiet time: the oldest line then waits its full age', () => {
    const b = new PartitionBuffer();
    b.add([lineAt(0n)], 10_000);
    // Boundaries at 10,300, 11,300, ...; quiet until 10,500: the first one does not count.
    assert.equal(b.dueBySlot(10_300, 1000, 300, 10_500), false);
    assert.equal(b.dueBySlot(10_999, 1000, 300, 10_500), false);
    assert.equal(b.dueBySlot(11_000, 1000, 300, 10_500), true, 'its full age');
    const later = new PartitionBuffer();
    later.add([lineAt(1n)], 11_000);
    assert.equal(later.dueBySlot(11_299, 1000, 300, 10_500), false);
    assert.equal(later.dueBySlot(11_300, 1000, 300, 10_500), true, 'after the quiet time, on its slot');
  });

  it('a long interval rolls nothing in the first half after the start, on any phase', () => {
    const start = 1_765_000_000_000;
    const maxAge = 600_000;
    for (let phase = 0; phase < maxAge; phase += 9_999) {
      const b = new PartitionBuffer();
      b.add([lineAt(0n)], start + 1000);
      assert.equal(
        b.dueBySlot(start + maxAge / 2 - 1, maxAge, phase, start + maxAge / 2),
        false,
        `phase ${phase}`,
      );
    }
  });

  it('a zero age makes every non-empty buffer due', () => {
    const b = new PartitionBuffer();
    b.add([lineAt(0n)], 1000);
    assert.equal(b.dueBySlot(1000, 0, 0), true);
  });

  it('holds a roll by count or by bytes, and twice that for back-pressure', () => {
    const b = new PartitionBuffer();
    b.add([lineAt(0n), lineAt(1n)], 0);
    assert.equal(b.holds(limits), false);
    b.add([lineAt(2n)], 0);
    assert.equal(b.holds(limits), true);
    assert.equal(b.holds(limits, 2), false);
    const big = new PartitionBuffer();
    big.add([lineAt(0n, 99)], 0);
    assert.equal(big.holds(limits), true, '99 bytes and a newline make the 100 of a roll');
    assert.equal(big.holds(limits, 2), false);
  });
});

describe('roll phases', () => {
  it('lie inside the interval and are stable per partition', () => {
    for (let p = 0; p < 64; p++) {
      const ph = rollPhase(p, 10_000);
      assert.ok(ph >= 0 && ph < 10_000, `partition ${p}: ${ph}`);
      assert.equal(rollPhase(p, 10_000), ph);
    }
    assert.equal(rollPhase(0, 10_000), 0);
  });

  it('keep the six partitions of LogEvents at least 0.8 s apart on a 10 s interval', () => {
    const phases = [0, 1, 2, 3, 4, 5].map((p) => rollPhase(p, 10_000)).sort((a, b) => a - b);
    const gaps = phases.map((ph, i) => (i ? ph - (phases[i - 1] ?? 0) : ph + 10_000 - (phases.at(-1) ?? 0)));
    assert.ok(Math.min(...gaps) >= 800, `gaps ${gaps.join(', ')}`);
  });
});

describe('offset tracker', () => {
  it('starts with nothing stored, processed or committed', () => {
    const t = new OffsetTracker();
    assert.equal(t.floor, -1n);
    assert.equal(t.alreadyStored(0n), false);
    assert.equal(t.processedEnd, undefined);
    assert.equal(t.committedEnd, undefined);
    assert.equal(t.uncommittedEnd(), undefined);
  });

  it('skips offsets at or below the floor HDFS held, not above', () => {
    const t = new OffsetTracker();
    t.recovered(41n);
    assert.equal(t.floor, 41n);
    assert.equal(t.alreadyStored(0n), true);
    assert.equal(t.alreadyStored(41n), true);
    assert.equal(t.alreadyStored(42n), false);
  });

  it('a floor from recovery is not a commit: the partition still has its end to commit', () => {
    const t = new OffsetTracker();
    t.recovered(41n);
    assert.equal(t.uncommittedEnd(), undefined);
    // A chunk entirely at or below the floor is skipped, but its end is processed: an empty roll
    // then commits it, so the committed offset catches up with what HDFS holds.
    t.processedTo(41n);
    assert.equal(t.uncommittedEnd(), 41n);
  });

  it('commits only what both sinks hold: the processed end, once, after HDFS', () => {
    const t = new OffsetTracker();
    t.processedTo(9n);
    const end = t.uncommittedEnd();
    assert.equal(end, 9n);
    // While that roll is in HDFS, Cassandra takes more: the roll still commits its own end.
    t.processedTo(19n);
    t.committedTo(9n);
    assert.equal(t.committedEnd, 9n);
    assert.equal(t.uncommittedEnd(), 19n);
    t.committedTo(19n);
    assert.equal(t.uncommittedEnd(), undefined, 'nothing left to roll or commit');
  });

  it('ends resolved out of order never move back', () => {
    const t = new OffsetTracker();
    t.processedTo(30n);
    t.processedTo(10n);
    assert.equal(t.processedEnd, 30n);
    t.committedTo(30n);
    t.committedTo(10n);
    assert.equal(t.committedEnd, 30n);
    assert.equal(t.uncommittedEnd(), undefined);
  });

  it('offset 0 is an end like any other', () => {
    const t = new OffsetTracker();
    t.processedTo(0n);
    assert.equal(t.uncommittedEnd(), 0n);
    t.committedTo(0n);
    assert.equal(t.uncommittedEnd(), undefined);
    assert.equal(commitOffsetAfter(0n), '1');
  });

  it('keeps offsets past 2^53 exact', () => {
    const big = 2n ** 63n - 2n;
    const t = new OffsetTracker();
    t.recovered(big - 1n);
    assert.equal(t.alreadyStored(big - 1n), true);
    assert.equal(t.alreadyStored(big), false);
    t.processedTo(big);
    assert.equal(t.uncommittedEnd(), big);
    assert.equal(commitOffsetAfter(big), '9223372036854775807');
    assert.equal(commitOffsetAfter(2n ** 53n), '9007199254740993');
  });
});
