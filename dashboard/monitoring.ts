// Pipeline monitoring from the services themselves: a real probe of each one (with the reason when
// it is down), consumer lag from Kafka's offsets, the streaming workers' Prometheus counters, the
// dead-letter topic read by reason, and the batch runs and schedule from Temporal.
import { randomUUID } from 'node:crypto';
import type { Client as TemporalClient } from '@temporalio/client';
import type cassandraDriver from 'cassandra-driver';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type pg from 'pg';
import { connectTemporal, queuePollers } from '../lib/clients/temporal.ts';
import { type Config, dlqTopic } from '../lib/config.ts';
import type { Logger } from '../lib/log.ts';
import { BATCH_WORKFLOW_TYPE, SCHEDULE_ID } from '../temporal/names.ts';
import { warehouseSchema } from './analytics.ts';

const PROBE_TIMEOUT_MS = 3000;

export interface ServiceHealth {
  name: string;
  state: 'up' | 'down';
  reason?: string;
  latencyMs: number;
  detail?: Record<string, unknown>;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const reasonOf = (err: unknown): string => {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const inner = e.cause?.message ?? (e.cause?.code as string | undefined);
  const msg = e.message || e.code || String(err);
  return (inner && !msg.includes(inner) ? `${msg}: ${inner}` : msg).split('\n')[0] as string;
};

async function probe(
  name: string,
  fn: () => Promise<Record<string, unknown> | undefined>,
): Promise<ServiceHealth> {
  const t0 = performance.now();
  try {
    const detail = await withTimeout(fn(), PROBE_TIMEOUT_MS, name);
    return { name, state: 'up', latencyMs: Math.round(performance.now() - t0), detail };
  } catch (err) {
    return { name, state: 'down', reason: reasonOf(err), latencyMs: Math.round(performance.now() - t0) };
  }
}

/** Parses Prometheus text: metric name to [labels, value] samples. */
export function parsePrometheus(
  text: string,
): Map<string, { labels: Record<string, string>; value: number }[]> {
  const out = new Map<string, { labels: Record<string, string>; value: number }[]>();
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
const byLabel = (samples: { labels: Record<string, string>; value: number }[] | undefined, label: string) => {
  const out: Record<string, number> = {};
  for (const s of samples ?? []) {
    const k = s.labels[label] ?? '';
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
};

interface DlqState {
  consumer?: Consumer;
  starting?: Promise<void>;
  byReason: Map<string, number>;
  positions: Map<number, bigint>;
  recent: { reason: string; detail: string; source: string; at: string }[];
  error?: string;
}

/** A batch run's dbt field, {models, tests: [{name, status}]}, as counts and the names that failed. */
export function dbtSummary(dbt: {
  ran?: boolean;
  reason?: string;
  models?: number | unknown[];
  tests?: { name: string; status: string; failures?: number | null }[];
}) {
  const tests = Array.isArray(dbt.tests) ? dbt.tests : [];
  const models = Array.isArray(dbt.models) ? dbt.models.length : (dbt.models ?? null);
  return {
    // False when the run had nothing new for dbt (older runs' results have no such field: true).
    ran: dbt.ran !== false,
    reason: typeof dbt.reason === 'string' ? dbt.reason : null,
    models,
    tests: tests.length,
    passed: tests.filter((t) => t.status === 'pass' || t.status === 'success').length,
    warned: tests.filter((t) => t.status === 'warn').length,
    // Source-data anomalies found by severity-warn tests, with how many rows each found.
    warnings: tests
      .filter((t) => t.status === 'warn')
      .map((t) => ({ name: t.name, failures: t.failures ?? null })),
    failed: tests
      .filter((t) => !['pass', 'success', 'warn', 'skipped'].includes(t.status))
      .map((t) => `${t.name}: ${t.status}`),
  };
}

export class Monitoring {
  private admin?: Admin;
  private adminConnecting?: Promise<Admin>;
  private temporal?: Promise<TemporalClient>;
  private readonly samples: { at: number; consumed: number }[] = [];
  private readonly runResults = new Map<string, Record<string, unknown>>();
  private readonly dlq: DlqState = { byReason: new Map(), positions: new Map(), recent: [] };

  constructor(
    private readonly config: Config,
    private readonly kafka: Kafka,
    private readonly cassandra: cassandraDriver.Client,
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  private async kafkaAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.adminConnecting ??= (async () => {
      const admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1000 } });
      try {
        await admin.connect();
      } catch (err) {
        this.adminConnecting = undefined;
        throw err;
      }
      admin.on(admin.events.DISCONNECT, () => {
        if (this.admin === admin) this.admin = undefined;
        this.adminConnecting = undefined;
      });
      this.admin = admin;
      return admin;
    })();
    return this.adminConnecting;
  }

  private async resetAdmin(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    this.adminConnecting = undefined;
    await a?.disconnect().catch(() => {});
  }

  temporalClient(): Promise<TemporalClient> {
    this.temporal ??= connectTemporal(this.config).catch((err) => {
      this.temporal = undefined;
      throw err;
    });
    return this.temporal;
  }

  /** Temporal Web UI link to one run. */
  runUrl(workflowId: string, runId: string): string {
    const ns = encodeURIComponent(this.config.TEMPORAL_NAMESPACE);
    return `${this.config.TEMPORAL_UI_URL}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
  }

  async health(): Promise<ServiceHealth[]> {
    const c = this.config;
    return Promise.all([
      probe('kafka', async () => {
        try {
          const admin = await this.kafkaAdmin();
          const cluster = await admin.describeCluster();
          return { brokers: cluster.brokers.length, controller: cluster.controller };
        } catch (err) {
          await this.resetAdmin();
          throw err;
        }
      }),
      probe('hdfs', async () => {
        const base = c.WEBHDFS_URL;
        const st = await fetch(
          `${base}/webhdfs/v1/?op=GETFILESTATUS&user.name=${encodeURIComponent(c.HDFS_USER)}`,
          {
            signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
          },
        );
        if (!st.ok) throw new Error(`WebHDFS answered HTTP ${st.status}`);
        const jmx = await fetch(`${base}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState`, {
          signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
        });
        const bean = jmx.ok
          ? ((await jmx.json()) as { beans?: { NumLiveDataNodes?: number; FSState?: string }[] }).beans?.[0]
          : undefined;
        const live = bean?.NumLiveDataNodes;
        if (live === 0) throw new Error('the NameNode answers but no DataNode is live');
        return { liveDataNodes: live ?? null, state: bean?.FSState ?? null };
      }),
      probe('cassandra', async () => {
        const rs = await this.cassandra.execute('SELECT release_version FROM system.local');
        return { version: rs.rows[0]?.release_version ?? null, keyspace: c.CASSANDRA_KEYSPACE };
      }),
      probe('postgres', async () => {
        const r = await this.pool.query<{ v: string; marts: string }>(
          `SELECT current_setting('server_version') AS v,
                  (SELECT count(*) FROM information_schema.tables WHERE table_schema = $1)::text AS marts`,
          [warehouseSchema(c)],
        );
        return {
          version: r.rows[0]?.v,
          warehouseSchema: warehouseSchema(c),
          tables: Number(r.rows[0]?.marts),
        };
      }),
      probe('temporal', async () => {
        const client = await this.temporalClient();
        const info = await client.workflowService.getSystemInfo({});
        return {
          serverVersion: info.serverVersion ?? null,
          namespace: c.TEMPORAL_NAMESPACE,
          ui: c.TEMPORAL_UI_URL,
        };
      }),
      probe('streaming-worker', async () => {
        const endpoints = await this.metricsEndpoints();
        const up = endpoints.filter((e) => e.up);
        let members: number | undefined;
        let groupState: string | undefined;
        try {
          const admin = await this.kafkaAdmin();
          const { groups } = await admin.describeGroups([c.STREAM_GROUP_ID]);
          members = groups[0]?.members.length ?? 0;
          groupState = groups[0]?.state;
        } catch {
          /* Kafka's own probe says why */
        }
        if (!up.length && !members) {
          const why = endpoints.map((e) => `${e.url}/healthz: ${e.error}`).join('; ');
          throw new Error(
            `no member in consumer group ${c.STREAM_GROUP_ID}${members === undefined ? ' (Kafka unreachable)' : ''} and no metrics endpoint answers (${why})`,
          );
        }
        return { group: c.STREAM_GROUP_ID, groupState, members, metricsEndpointsUp: up.map((e) => e.url) };
      }),
      probe('batch-worker', async () => {
        const client = await this.temporalClient();
        const pollers = await queuePollers(client, c.TEMPORAL_NAMESPACE, c.BATCH_TASK_QUEUE, 'workflow');
        if (!pollers.length) throw new Error(`no worker polls task queue ${c.BATCH_TASK_QUEUE}`);
        return { taskQueue: c.BATCH_TASK_QUEUE, pollers };
      }),
    ]);
  }

  private async metricsEndpoints() {
    return Promise.all(
      this.config.DASHBOARD_STREAM_METRICS_URLS.map(async (url) => {
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
  async ingestion() {
    const workers = await Promise.all(
      this.config.DASHBOARD_STREAM_METRICS_URLS.map(async (url) => {
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

  /** Per partition: the topic's high watermark, the group's committed offset and the difference. */
  async lag() {
    const c = this.config;
    const admin = await this.kafkaAdmin();
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(c.KAFKA_TOPIC),
      admin.fetchOffsets({ groupId: c.STREAM_GROUP_ID, topics: [c.KAFKA_TOPIC] }),
    ]);
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    const partitions = ends
      .map((e) => {
        const high = BigInt(e.high);
        const low = BigInt(e.low);
        const at = done.get(e.partition) ?? -1n;
        // -1: the group never committed on this partition: everything retained is lag.
        const from = at < 0n ? low : at;
        return {
          partition: e.partition,
          high: Number(high),
          committed: at < 0n ? null : Number(at),
          lag: Number(high > from ? high - from : 0n),
        };
      })
      .sort((a, b) => a.partition - b.partition);
    return {
      topic: c.KAFKA_TOPIC,
      group: c.STREAM_GROUP_ID,
      partitions,
      total: partitions.reduce((a, p) => a + p.lag, 0),
    };
  }

  /** Starts (once) a reader of the whole dead-letter topic counting messages by their reason header. */
  private startDlqReader(): Promise<void> {
    this.dlq.starting ??= (async () => {
      const consumer = this.kafka.consumer({
        groupId: `logpipe-dashboard-${randomUUID()}`,
        maxWaitTimeInMs: 500,
        retry: { retries: 5 },
      });
      await consumer.connect();
      await consumer.subscribe({ topic: dlqTopic(this.config), fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const h = (k: string) => (message.headers?.[k] === undefined ? '' : String(message.headers[k]));
          const reason = h('reason') || 'unknown';
          this.dlq.byReason.set(reason, (this.dlq.byReason.get(reason) ?? 0) + 1);
          this.dlq.positions.set(partition, BigInt(message.offset) + 1n);
          this.dlq.recent.unshift({
            reason,
            detail: h('detail').slice(0, 300),
            source: `${h('source_topic')}:${h('source_partition')}:${h('source_offset')}`,
            at: h('dead_lettered_at'),
          });
          if (this.dlq.recent.length > 50) this.dlq.recent.pop();
        },
      });
      this.dlq.consumer = consumer;
    })().catch((err) => {
      this.dlq.error = reasonOf(err);
      this.dlq.starting = undefined;
      this.log.warn({ err: this.dlq.error }, 'dead-letter reader failed to start');
    });
    return this.dlq.starting;
  }

  async deadLetters() {
    void this.startDlqReader();
    const topic = dlqTopic(this.config);
    const admin = await this.kafkaAdmin();
    let ends: { partition: number; high: string; low: string }[] = [];
    try {
      ends = await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (!/does not host this topic-partition|UNKNOWN_TOPIC/i.test(reasonOf(err))) throw err;
    }
    const inTopic = ends.reduce((a, e) => a + Number(BigInt(e.high) - BigInt(e.low)), 0);
    const behind = ends.reduce((a, e) => {
      const at = this.dlq.positions.get(e.partition) ?? BigInt(e.low);
      return a + Number(BigInt(e.high) > at ? BigInt(e.high) - at : 0n);
    }, 0);
    const byReason = [...this.dlq.byReason.entries()]
      .map(([reason, messages]) => ({ reason, messages }))
      .sort((a, b) => b.messages - a.messages || a.reason.localeCompare(b.reason));
    return {
      topic,
      inTopic,
      read: byReason.reduce((a, r) => a + r.messages, 0),
      caughtUp: behind === 0,
      byReason,
      recent: this.dlq.recent.slice(0, 20),
      error: this.dlq.error,
    };
  }

  /** The newest batch runs, newest first, with their results (cached once a run is closed). */
  async batchRuns(limit: number) {
    const client = await this.temporalClient();
    const runs = [];
    for await (const wf of client.workflow.list({
      query: `WorkflowType = '${BATCH_WORKFLOW_TYPE}' AND TaskQueue = '${this.config.BATCH_TASK_QUEUE.replaceAll("'", '')}'`,
    })) {
      runs.push(wf);
      if (runs.length >= limit) break;
    }
    runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
    return Promise.all(
      runs.map(async (wf) => {
        const status = wf.status.name;
        const key = `${wf.workflowId}/${wf.runId}`;
        let outcome = this.runResults.get(key);
        if (!outcome && status !== 'RUNNING') {
          outcome = await this.runOutcome(client, wf.workflowId, wf.runId, status);
          this.runResults.set(key, outcome);
        }
        const end = wf.closeTime ?? new Date();
        return {
          workflowId: wf.workflowId,
          runId: wf.runId,
          status,
          startTime: wf.startTime.toISOString(),
          closeTime: wf.closeTime?.toISOString() ?? null,
          durationMs: end.getTime() - wf.startTime.getTime(),
          url: this.runUrl(wf.workflowId, wf.runId),
          ...(outcome ?? {}),
        };
      }),
    );
  }

  private async runOutcome(client: TemporalClient, workflowId: string, runId: string, status: string) {
    const handle = client.workflow.getHandle(workflowId, runId);
    if (status !== 'COMPLETED') {
      try {
        await withTimeout(handle.result(), 5000, 'result');
        return {};
      } catch (err) {
        const e = err as { cause?: { message?: string; cause?: { message?: string } }; message?: string };
        return { failure: e.cause?.cause?.message ?? e.cause?.message ?? e.message ?? String(err) };
      }
    }
    const r = (await withTimeout(handle.result(), 5000, 'result')) as {
      filesNew?: number;
      load?: { inserted?: number; duplicate?: number; rejected?: number; perTable?: Record<string, number> };
      steps?: { step: string; ms: number }[];
      dbt?: {
        ran?: boolean;
        reason?: string;
        models?: number | unknown[];
        tests?: { name: string; status: string }[];
      };
    } | null;
    return {
      filesNew: r?.filesNew ?? null,
      rowsLoaded: r?.load?.inserted ?? null,
      duplicates: r?.load?.duplicate ?? null,
      // Lines quarantined in raw.rejected_lines by this run.
      quarantined: r?.load?.rejected ?? null,
      perTable: r?.load?.perTable ?? {},
      steps: r?.steps ?? [],
      dbt: r?.dbt ? dbtSummary(r.dbt) : null,
    };
  }

  async schedule() {
    const client = await this.temporalClient();
    const handle = client.schedule.getHandle(SCHEDULE_ID);
    try {
      const d = await handle.describe();
      return {
        id: SCHEDULE_ID,
        exists: true,
        paused: d.state.paused,
        note: d.state.note ?? null,
        nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        recent: d.info.recentActions.slice(-5).map((a) => ({
          scheduledAt: a.scheduledAt.toISOString(),
          workflowId: a.action.workflow.workflowId,
          url: this.runUrl(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId),
        })),
        runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
        url: `${this.config.TEMPORAL_UI_URL}/namespaces/${encodeURIComponent(this.config.TEMPORAL_NAMESPACE)}/schedules/${SCHEDULE_ID}`,
      };
    } catch (err) {
      if ((err as Error).name === 'ScheduleNotFoundError')
        return { id: SCHEDULE_ID, exists: false, paused: null, note: null, nextRuns: [], recent: [] };
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.dlq.consumer?.disconnect().catch(() => {});
    await this.resetAdmin();
    const t = await this.temporal?.catch(() => undefined);
    await t?.connection.close().catch(() => {});
  }
}
