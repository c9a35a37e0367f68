import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileLoad } from '../../activities/load-file.ts';
import { emptyTotals, fanOut, groupFiles, sumTotals } from '../../workflows/load-plan.ts';

const file = (n: number, bytes: number): FileLoad => ({
  path: `/raw/LogEvents/dt=2026-12-02/hour=05/part-${String(n).padStart(3, '0')}.ndjson`,
  kind: 'raw',
  dt: '2026-12-02',
  hour: 5,
  bytes,
});

describe('load plan', () => {
  it('cuts files into groups by count and by bytes, in order, a large file alone', () => {
    const files = [file(1, 10), file(2, 10), file(3, 10), file(4, 100), file(5, 10), file(6, 10)];
    const groups = groupFiles(files, { maxFiles: 2, maxBytes: 50 });
    assert.deepEqual(
      groups.map((g) => g.map((f) => f.bytes)),
      [[10, 10], [10], [100], [10, 10]],
    );
    assert.deepEqual(groups.flat(), files, 'every file once, in order');
    assert.deepEqual(groupFiles([]), []);
  });

  it('groups files of unknown size by count alone', () => {
    const files = Array.from({ length: 5 }, (_, i) => ({ ...file(i, 0), bytes: undefined }));
    assert.deepEqual(
      groupFiles(files, { maxFiles: 2, maxBytes: 1 }).map((g) => g.length),
      [2, 2, 1],
    );
  });

  it('runs at most `parallelism` at once and returns results in item order', async () => {
    let running = 0;
    let peak = 0;
    const out = await fanOut([5, 1, 4, 2, 3, 0], 3, async (n, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return `${i}:${n}`;
    });
    assert.deepEqual(out, ['0:5', '1:1', '2:4', '3:2', '4:3', '5:0']);
    assert.equal(peak, 3);
    assert.deepEqual(await fanOut([], 4, async () => 1), []);
  });

  it('stops at the first failure', async () => {
    await assert.rejects(
      fanOut([1, 2, 3], 1, async (n) => {
        if (n === 2) throw new Error('boom');
        return n;
      }),
      /boom/,
    );
  });

  it('sums load totals, per table and the vanished files', () => {
    const a = {
      ...emptyTotals(),
      files: 2,
      lines: 10,
      inserted: 8,
      duplicate: 1,
      rejected: 1,
      perTable: { search_response: 8 },
    };
    const b = {
      ...emptyTotals(),
      files: 1,
      skipped: 1,
      lines: 4,
      inserted: 3,
      duplicate: 1,
      perTable: { search_response: 1, error_response: 2 },
      vanished: ['/raw/x.ndjson'],
    };
    assert.deepEqual(sumTotals([a, b]), {
      files: 3,
      skipped: 1,
      lines: 14,
      inserted: 11,
      duplicate: 2,
      rejected: 1,
      perTable: { search_response: 9, error_response: 2 },
      vanished: ['/raw/x.ndjson'],
    });
    assert.deepEqual(sumTotals([]), emptyTotals());
  });
});
