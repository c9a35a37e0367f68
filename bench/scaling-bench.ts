// `logpipe bench scaling`: whether a batch run costs what its new data costs, whatever the
// warehouse already holds. The batch bench runs twice in one sitting, on N events and on
// factor x N (default 5), and each time run 2 gets the same number of new events (default 10,000):
// run 2 on the large warehouse / run 2 on the small one should stay near 1. The load baselines
// (psql, conversion) are bench batch's, not repeated here.
import { type BatchBenchResult, batchBench, type SlowModel } from './batch-bench.ts';
import { machine } from './bench-env.ts';

/** One warehouse size's runs. */
export interface ScalingSide {
  events: number;
  run1_s: number;
  run2_s: number;
  run3_s: number;
  dbt_incremental_s: number;
  worker_peak_rss_mib: number;
  run2_slowest_models: SlowModel[];
}

export interface ScalingBenchResult {
  new_events: number;
  small: ScalingSide;
  large: ScalingSide;
  /** run 2 on factor x N events / run 2 on N events, the same new events each time. */
  ratio_run2_large_to_small: number;
  ratio_dbt_incremental_large_to_small: number;
  machine: string;
}

const side = (r: BatchBenchResult): ScalingSide => ({
  events: r.events,
  run1_s: r.run1_s,
  run2_s: r.run2_s,
  run3_s: r.run3_s,
  dbt_incremental_s: r.dbt_incremental_s,
  worker_peak_rss_mib: r.worker_peak_rss_mib,
  run2_slowest_models: r.run2_slowest_models,
});

const round = (x: number) => Math.round(x * 1000) / 1000;

export async function scalingBench(
  n: number,
  factor: number,
  newEvents: number,
): Promise<ScalingBenchResult> {
  const options = { newEvents, baselines: false };
  const small = side(await batchBench(n, 1, 10, false, options));
  const large = side(await batchBench(n * factor, 1, 10, false, options));
  return {
    new_events: newEvents,
    small,
    large,
    ratio_run2_large_to_small: round(large.run2_s / small.run2_s),
    ratio_dbt_incremental_large_to_small: round(large.dbt_incremental_s / small.dbt_incremental_s),
    machine: machine(),
  };
}
