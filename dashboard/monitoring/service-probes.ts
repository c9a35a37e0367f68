// A real probe of each service the pipeline runs on, each bounded by PROBE_TIMEOUT_MS: up with a few
// facts, or down with the reason.
import type cassandraDriver from 'cassandra-driver';
import type pg from 'pg';
import { queuePollers } from '../../lib/clients/temporal.ts';
import type { Config } from '../../lib/config.ts';
import { warehouseSchema } from '../analytics.ts';
import type { ServiceHealth } from '../api-types.ts';
import type { MonitoringConnections } from './connections.ts';
import type { StreamMetrics } from './stream-metrics.ts';
import { reasonOf, withTimeout } from './time-limit.ts';

const PROBE_TIMEOUT_MS = 3000;

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

export interface ProbeTargets {
  config: Config;
  connections: MonitoringConnections;
  cassandra: cassandraDriver.Client;
  pool: pg.Pool;
  streamMetrics: StreamMetrics;
}

export function probeServices({
  config: c,
  connections,
  cassandra,
  pool,
  streamMetrics,
}: ProbeTargets): Promise<ServiceHealth[]> {
  return Promise.all([
    probe('kafka', async () => {
      try {
        const admin = await connections.kafkaAdmin();
        const cluster = await admin.describeCluster();
        return { brokers: cluster.brokers.length, controller: cluster.controller };
      } catch (err) {
        await connections.resetAdmin();
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
      const rs = await cassandra.execute('SELECT release_version FROM system.local');
      return { version: rs.rows[0]?.release_version ?? null, keyspace: c.CASSANDRA_KEYSPACE };
    }),
    probe('postgres', async () => {
      const r = await pool.query<{ v: string; marts: string }>(
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
      const client = await connections.temporalClient();
      const info = await client.workflowService.getSystemInfo({});
      return {
        serverVersion: info.serverVersion ?? null,
        namespace: c.TEMPORAL_NAMESPACE,
        ui: c.TEMPORAL_UI_URL,
      };
    }),
    // Up when the consumer group has a member or a worker's metrics endpoint answers: either is
    // enough (a worker may run without its metrics endpoint reachable from here).
    probe('streaming-worker', async () => {
      const endpoints = await streamMetrics.endpoints();
      const up = endpoints.filter((e) => e.up);
      let members: number | undefined;
      let groupState: string | undefined;
      try {
        const admin = await connections.kafkaAdmin();
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
      const client = await connections.temporalClient();
      const pollers = await queuePollers(client, c.TEMPORAL_NAMESPACE, c.BATCH_TASK_QUEUE, 'workflow');
      if (!pollers.length) throw new Error(`no worker polls task queue ${c.BATCH_TASK_QUEUE}`);
      return { taskQueue: c.BATCH_TASK_QUEUE, pollers };
    }),
  ]);
}
