// How big each benchmark runs: the defaults of `logpipe bench stream|batch|latency|dashboard` and of
// `logpipe bench` (all of them), and the smaller sizes of `logpipe bench --quick`.

export interface BenchSizes {
  stream: { events: number };
  batch: { events: number };
  latency: { rate: number; durationS: number };
  /** martEvents undefined: all of the events. */
  dashboard: { events: number; martEvents?: number; clients: number; requests: number };
}

/** The defaults: the figures the README quotes are measured with these (~20 minutes on 2 vCPUs). */
export const DEFAULT_SIZES: BenchSizes = {
  stream: { events: 1_000_000 },
  batch: { events: 1_000_000 },
  latency: { rate: 2000, durationS: 30 },
  dashboard: { events: 1_000_000, clients: 20, requests: 400 },
};

/**
 * `--quick`: the whole sequence in a few minutes. Fixed costs (process starts, dbt, the first
 * request of each endpoint) weigh more at these sizes, so the figures are not comparable with a
 * full run's.
 */
export const QUICK_SIZES: BenchSizes = {
  stream: { events: 20_000 },
  batch: { events: 50_000 },
  latency: { rate: 2000, durationS: 10 },
  dashboard: { events: 50_000, clients: 20, requests: 100 },
};

/** The smallest --events the batch bench accepts (its 1% second run needs some rows). */
export const MIN_BATCH_EVENTS = 1000;
