// A small stale-while-revalidate cache: a value younger than `ttlMs` is served as is; an older one
// (up to `maxStaleMs`) is still served while one refresh runs in the background, so concurrent
// requests never queue behind a slow query; without a usable value, callers share one computation.
export class SwrCache<T> {
  private readonly entries = new Map<string, { at: number; value?: T; pending?: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxStaleMs: number,
    private readonly maxEntries = 500,
  ) {}

  /** `ttlMs` overrides the cache's own for this key (values that age at different speeds). */
  get(key: string, compute: () => Promise<T>, ttlMs = this.ttlMs): Promise<T> {
    const now = Date.now();
    let e = this.entries.get(key);
    if (e && e.value !== undefined && now - e.at < ttlMs) return Promise.resolve(e.value);
    if (!e) {
      if (this.entries.size >= this.maxEntries) this.evict(now);
      e = { at: 0 };
      this.entries.set(key, e);
    }
    const entry = e;
    if (!entry.pending) {
      const started = now;
      entry.pending = compute()
        .then((v) => {
          entry.value = v;
          entry.at = started;
          return v;
        })
        .finally(() => {
          entry.pending = undefined;
        });
    }
    if (entry.value !== undefined && now - entry.at < this.maxStaleMs) {
      entry.pending.catch(() => {});
      return Promise.resolve(entry.value);
    }
    return entry.pending;
  }

  clear(): void {
    this.entries.clear();
  }

  private evict(now: number): void {
    for (const [k, v] of this.entries)
      if (!v.pending && now - v.at >= this.maxStaleMs) this.entries.delete(k);
    if (this.entries.size >= this.maxEntries) {
      const oldest = [...this.entries.entries()]
        .filter(([, v]) => !v.pending)
        .sort((a, b) => a[1].at - b[1].at);
      for (const [k] of oldest.slice(0, Math.ceil(this.maxEntries / 4))) this.entries.delete(k);
    }
  }
}
