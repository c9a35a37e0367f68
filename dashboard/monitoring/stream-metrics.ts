// The streaming workers' Prometheus endpoints (DASHBOARD_STREAM_METRICS_URLS): whether each answers,
// and their counters summed, with the ingestion rate between two reads.
import type { Config } from '../../lib/config.ts';
import type { IngestionAnswer } from '../api-types.ts';
import { reasonOf } from './time-limit.ts';

type Samples = { labels: Record<string, string>; value: number }[];

/** Parses Prometheus text: metric name to [labels, value] samples. */
export function parsePrometheus(text: string): Map<string, Samples> {
  const out = new Map<string, Samples>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    const list = out.get(m[1] as string) ?? [];
    list.push({ labels, value: Number(m[4]) });
    out.set(m[1] as string, list);
  }
  return out;
}

const sum = (samples: { value: number }[] | undefined) => (samples ?? []).reduce((a, s) => a + s.value, 0);
const byLabel = (samples: Samples | undefined, label: string) => {
  const out: Record<string, number> = {};
  for (const s of samples ?? []) {
    const k = s.labels[label] ?? '';
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
};

export class StreamMetrics {
  private readonly samples: { at: number; consumed: number }[] = [];

  constructor(private readonly urls: Config['DASHBOARD_STREAM_METRICS_URLS']) {}

  /** Each endpoint's /healthz: up, or why not. */
  async endpoints(): Promise<{ url: string; up: boolean; error?: string }[]> {
    return Promise.all(
      this.urls.map(async (url) => {
        try {
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
          return { url, up: res.ok, error: res.ok ? undefined : `HTTP ${res.status}` };
        } catch (err) {
          return { url, up: false, error: reasonOf(err) };
        }
      }),
    );
  }

  /** Counters of every streaming worker's /metrics, summed, and the ingestion rate between two reads. */
  async ingestion(): Promise<IngestionAnswer> {
    const workers = await Promise.all(
      this.urls.map(async (url) => {
        try {
          const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return { url, metrics: parsePrometheus(await res.text()) };
        } catch (err) {
          return { url, error: reasonOf(err) };
        }
      }),
    );
    const get = (name: string) =>
      workers.flatMap((w) => ('metrics' in w ? (w.metrics?.get(name) ?? []) : []));
    const consumed = sum(get('logpipe_stream_consumed_total'));
    const now = Date.now();
    const reachable = workers.some((w) => 'metrics' in w);
    if (reachable) {
      this.samples.push({ at: now, consumed });
      while (this.samples.length > 2 && (this.samples[1]?.at ?? now) < now - 60_000) this.samples.shift();
    }
    // Rate over the widest window of samples of at least 2 s (counters reset when a worker restarts).
    const first = this.samples.find((s) => now - s.at >= 2000);
    const rate =
      first && consumed >= first.consumed
        ? Math.round(((consumed - first.consumed) * 1000) / (now - first.at))
        : null;
    const batch = get('logpipe_stream_batch_seconds_sum');
    const batches = get('logpipe_stream_batch_seconds_count');
    return {
      workers: workers.map((w) => ({
        url: w.url,
        up: 'metrics' in w,
        error: 'error' in w ? w.error : undefined,
      })),
      consumedTotal: consumed,
      writtenTotal: byLabel(get('logpipe_stream_written_total'), 'sink'),
      deadLetteredTotal: byLabel(get('logpipe_stream_dead_lettered_total'), 'reason'),
      sinkErrorsTotal: byLabel(get('logpipe_stream_sink_errors_total'), 'sink'),
      lagFromMetrics: byLabel(get('logpipe_stream_lag'), 'partition'),
      batchMeanSeconds: sum(batches) ? Math.round((sum(batch) / sum(batches)) * 1e4) / 1e4 : null,
      ratePerSecond: rate,
      rateWindowSeconds: first ? Math.round((now - first.at) / 1000) : null,
    };
  }
}
