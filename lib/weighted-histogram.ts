// A Prometheus histogram whose observation carries a count: the n events of a chunk that spent the
// same time in a stage are one call, where prom-client's Histogram.observe counts one per call
// (validating labels and hashing them each time, on the streaming worker's hot path). It registers
// in a prom-client Registry like any metric (the registry reads name, help, type, get() and
// reset()) and is exposed in the same text as prom-client's Histogram fed the same observations,
// which test/unit/weighted-histogram.test.ts checks against prom-client itself.
import type { Registry } from 'prom-client';

interface Series {
  label: string;
  /** Observations per bucket, not cumulative; the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export interface WeightedHistogramOptions {
  name: string;
  help: string;
  /** The one label that tells the series apart (for example `stage`). */
  labelName: string;
  buckets: number[];
  registers: Registry[];
}

/** Adds `count` observations of `value` (seconds, bytes…) to one series. */
export type Observe = (value: number, count?: number) => void;

interface Value {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  /** prom-client's empty exemplars (null on buckets), so getMetricsAsJSON matches it too. */
  exemplar: null | undefined;
}

export class WeightedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly bounds: number[];
  private readonly series = new Map<string, Series>();

  constructor(private readonly options: WeightedHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    for (const r of options.registers) r.registerMetric(this as never);
  }

  /** The observer of one value of the label. */
  labels(labelValue: string): Observe {
    let s = this.series.get(labelValue);
    if (!s) {
      s = { label: labelValue, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.series.set(labelValue, s);
    }
    const series = s;
    const bounds = this.bounds;
    return (value, count = 1) => {
      if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
      let i = 0;
      while (i < bounds.length && value > (bounds[i] as number)) i++;
      series.counts[i] = (series.counts[i] as number) + count;
      series.sum += value * count;
      series.count += count;
    };
  }

  /** What the registry writes as text: prom-client's own layout (le first, then the label). */
  async getForPromString() {
    const values: Value[] = [];
    for (const s of this.series.values()) {
      if (s.count === 0) continue;
      const shared = { [this.options.labelName]: s.label };
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i] as number;
        values.push({
          labels: { le },
          sharedLabels: shared,
          value: acc,
          metricName: `${this.name}_bucket`,
          exemplar: null,
        });
      });
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: shared,
          value: s.count,
          metricName: `${this.name}_bucket`,
          exemplar: null,
        },
        {
          labels: {},
          sharedLabels: shared,
          value: s.sum,
          metricName: `${this.name}_sum`,
          exemplar: undefined,
        },
        {
          labels: {},
          sharedLabels: shared,
          value: s.count,
          metricName: `${this.name}_count`,
          exemplar: undefined,
        },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The same values with their labels in one object (getMetricsAsJSON). */
  async get() {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }

  /** Zeroes every series; a series seen before reappears with its next observation. */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
