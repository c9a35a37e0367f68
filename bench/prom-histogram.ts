// Quantiles from a Prometheus histogram in the text exposition format: the upper bound of the
// bucket that holds the quantile (what histogram_quantile's lower resolution gives without
// interpolation). Used to attribute the latency bench's tail to a stage of the worker.

/** For each value of `label`, the cumulative bucket counts of histogram `name`, by upper bound. */
export function histogramBuckets(text: string, name: string, label: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const labels = Object.fromEntries(
      [...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1] as string, l[2] as string]),
    );
    const key = labels[label];
    const le = labels.le;
    if (key === undefined || le === undefined) continue;
    const list = out.get(key) ?? [];
    list.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(m[2])]);
    out.set(key, list);
  }
  for (const list of out.values()) list.sort((a, b) => a[0] - b[0]);
  return out;
}

/** The upper bound of the bucket holding quantile q (0..1); undefined for an empty histogram. */
export function bucketQuantile(buckets: [number, number][], q: number): number | undefined {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return undefined;
  const rank = q * total;
  for (const [le, count] of buckets) if (count >= rank) return le;
  return Number.POSITIVE_INFINITY;
}
