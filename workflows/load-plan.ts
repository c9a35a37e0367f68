// How a run splits its work into activities that any batch worker can take: files in groups of
// bounded size, run a bounded number at a time, and their totals summed. Pure and deterministic
// (the workflow imports it; so do the unit tests).
import type { LoadTotals } from '../activities/batch-activities.ts';
import type { FileLoad } from '../activities/load-file.ts';

export interface GroupLimits {
  /** At most this many files in one load activity. */
  maxFiles: number;
  /** At most about this many bytes in one load activity (one larger file is a group alone). */
  maxBytes: number;
}

export const DEFAULT_GROUP: GroupLimits = { maxFiles: 16, maxBytes: 32 << 20 };

/**
 * Consecutive files (in path order, so an hour's files stay together) cut into groups: a group is
 * closed when one more file would pass either limit.
 */
export function groupFiles(files: FileLoad[], limits: GroupLimits = DEFAULT_GROUP): FileLoad[][] {
  const groups: FileLoad[][] = [];
  let group: FileLoad[] = [];
  let bytes = 0;
  for (const f of files) {
    const size = f.bytes ?? 0;
    if (group.length && (group.length >= limits.maxFiles || bytes + size > limits.maxBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(f);
    bytes += size;
  }
  if (group.length) groups.push(group);
  return groups;
}

/**
 * Runs `work` on every item, at most `parallelism` at a time, and returns the results in the
 * items' order. Inside a workflow each call schedules an activity, so N batch workers share them.
 */
export async function fanOut<T, R>(
  items: readonly T[],
  parallelism: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, items.length)) }, lane));
  return results;
}

export const emptyTotals = (): LoadTotals => ({
  files: 0,
  skipped: 0,
  lines: 0,
  inserted: 0,
  duplicate: 0,
  rejected: 0,
  perTable: {},
  vanished: [],
});

/** The sum of several loads' totals. */
export function sumTotals(parts: readonly LoadTotals[]): LoadTotals {
  const total = emptyTotals();
  for (const p of parts) {
    total.files += p.files;
    total.skipped += p.skipped;
    total.lines += p.lines;
    total.inserted += p.inserted;
    total.duplicate += p.duplicate;
    total.rejected += p.rejected;
    for (const [t, n] of Object.entries(p.perTable)) total.perTable[t] = (total.perTable[t] ?? 0) + n;
    total.vanished.push(...p.vanished);
  }
  return total;
}
