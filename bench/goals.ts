// The benchmarks' goals, in one place: the per-bench printouts (`logpipe bench stream|batch|...`)
// and bench/REPORT.md (`logpipe bench`) both read them from here.

export interface Goal {
  /** What the goal is about, as printed before the comparison: "ratio", "p99", "worker RSS". */
  subject: string;
  op: '>=' | '<=' | '<';
  target: number;
  unit?: string;
}

export const GOALS = {
  /** bench stream: worker throughput / min(bare consumer, Cassandra only). */
  streamRatio: { subject: 'ratio', op: '>=', target: 0.8 },
  /** bench stream and bench latency: the streaming worker's resident memory at its peak. */
  workerRss: { subject: 'worker RSS', op: '<=', target: 300, unit: 'MiB' },
  /** bench stream: the worker process's own CPU time per event while draining. */
  workerCpu: { subject: 'worker CPU', op: '<=', target: 40, unit: 'µs/event' },
  /** bench stream: tombstone cells read for a full hour partition of ecomm_log. */
  tombstones: { subject: 'tombstones', op: '<=', target: 0 },
  /** bench latency: produce to readable in Cassandra. */
  latencyP99: { subject: 'p99', op: '<=', target: 500, unit: 'ms' },
  /** bench batch: the load step's rows/s / psql \copy's rows/s. */
  batchLoadRatio: { subject: 'ratio', op: '>=', target: 0.8 },
  /** bench batch: run 2 (after 1% new events) / run 1. */
  batchRun2Ratio: { subject: 'ratio', op: '<=', target: 0.1 },
  /** bench batch: run 3 (nothing new) / run 1. */
  batchRun3Ratio: { subject: 'ratio', op: '<=', target: 0.03 },
  /** bench batch: dbt incremental (after 1% new events) / dbt first build. */
  batchDbtRatio: { subject: 'ratio', op: '<=', target: 0.15 },
  /** bench scaling: run 2 on 5x the events / run 2 on 1x, the same new events each time. */
  scalingRun2Ratio: { subject: 'ratio', op: '<=', target: 1.2 },
  /** bench dashboard: the worst endpoint's p95 as served (every endpoint under the target). */
  dashboardP95: { subject: 'worst p95', op: '<', target: 100, unit: 'ms' },
} as const satisfies Record<string, Goal>;

/** ">= 0.8", "<= 300 MiB": the comparison alone, as the per-bench printouts show it. */
export function goalText(goal: Goal): string {
  return `${goal.op} ${goal.target}${goal.unit ? ` ${goal.unit}` : ''}`;
}

/** "ratio >= 0.8", "p99 <= 1000 ms". */
export function goalLabel(goal: Goal): string {
  return `${goal.subject} ${goalText(goal)}`;
}

/** Whether a measured value meets the goal; undefined when there is no usable value. */
export function goalMet(goal: Goal, value: number | undefined): boolean | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  switch (goal.op) {
    case '>=':
      return value >= goal.target;
    case '<=':
      return value <= goal.target;
    case '<':
      return value < goal.target;
  }
}
