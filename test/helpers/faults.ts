// Helpers shared by the fault tests: datasets, exact-count checks for both streaming sinks and for
// the raw tables, batch worker processes, and the stack's services by name.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { TABLE_OF } from '../../activities/warehouse-schema.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { loadConfig, repoRoot } from '../../lib/config.ts';
import { errorMessage } from '../../lib/errors.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { allServices, stackContext } from '../../stack/stack.ts';
import type { ServiceDef } from '../../stack/types.ts';
import {
  cassandraEventIds,
  createTopics,
  duplicates,
  hdfsEventIds,
  type Isolated,
  isolated,
  send,
  startLogpipe,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from './pipeline.ts';

export const stack = () => stackContext(loadConfig());

export function service(name: string): ServiceDef {
  const svc = allServices().find((s) => s.name === name);
  assert.ok(svc, `service ${name}`);
  return svc;
}

/** n generated events from the last ten minutes. */
export function dataset(iso: Isolated, n: number, seed = iso.id): LogEvent[] {
  return [...new EventGenerator({ seed, start: new Date(Date.now() - 600_000), rate: 500 }).take(n)];
}

export const messages = (events: LogEvent[]) =>
  events.map((e) => ({ key: e.session_id, value: JSON.stringify(e) }));

/** Waits until both streaming sinks hold every event, then checks there is exactly one copy of each. */
export async function assertExactlyOnce(
  iso: Isolated,
  events: LogEvent[],
  timeoutMs = 180_000,
): Promise<void> {
  const ids = new Set(events.map((e) => e.event_id));
  const every = (store: string, read: (iso: Isolated) => Promise<Map<string, number>>) =>
    explained(
      iso,
      waitFor(
        `every event in ${store}`,
        async () => {
          const m = await read(iso);
          return m.size >= ids.size ? m : undefined;
        },
        timeoutMs,
        2000,
      ),
      ids.size,
    );
  const cass = await every('Cassandra', cassandraEventIds);
  const raw = await every('HDFS', hdfsEventIds);
  assert.equal(cass.size, ids.size, 'Cassandra: no loss, nothing extra');
  assert.equal(raw.size, ids.size, 'HDFS: no loss, nothing extra');
  assert.ok([...ids].every((id) => cass.has(id) && raw.has(id)));
  assert.deepEqual(duplicates(raw), [], 'HDFS: no second copy');
  assert.deepEqual(duplicates(cass), [], 'Cassandra: no second copy');
  // Give a replay a chance to show up as a late duplicate, then look again.
  await sleep(3000);
  const again = await hdfsEventIds(iso);
  assert.deepEqual(duplicates(again), []);
  assert.equal(again.size, ids.size);
}

/**
 * A wait that timed out says what the isolated run's processes last warned about: a fault test
 * that fails on CI, where the logs are not kept, is then still explained by its own message.
 */
async function explained<T>(iso: Isolated, wait: Promise<T>, expected: number): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    const held = async (count: () => Promise<Map<string, number>>) =>
      count().then(
        (m) => `${m.size} of ${expected}`,
        (e: unknown) => `unknown (${errorMessage(e)})`,
      );
    const counts = `Cassandra holds ${await held(() => cassandraEventIds(iso))}, HDFS ${await held(() => hdfsEventIds(iso))}`;
    const dir = join(repoRoot, 'test-artifacts', 'logs');
    const tails = readdirSync(dir)
      .filter((f) => f.startsWith(`${iso.id}-`))
      .map((f) => {
        const warnings = readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .filter((l) => /"level":(40|50|60)/.test(l))
          .slice(-12);
        return `--- ${f}: last warnings\n${warnings.join('\n')}`;
      });
    throw new Error(`${errorMessage(err)}; ${counts}\n${tails.join('\n')}`);
  }
}

/** A batch worker process (`logpipe worker batch`), its output in test-artifacts/logs. */
export function startBatchWorker(
  iso: Isolated,
  tag = 'batch',
  env: Record<string, string> = {},
): WorkerHandle {
  return startLogpipe(iso, ['worker', 'batch'], tag, env);
}

export async function killWorker(w: WorkerHandle | undefined): Promise<void> {
  if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGKILL');
  await w.exited;
}

/** The streaming worker writes the events in rounds, each rolled to HDFS before the next: many files. */
export async function writeInRounds(iso: Isolated, events: LogEvent[], roundSize = 400): Promise<void> {
  await createTopics(iso);
  const streaming = startWorker(iso);
  try {
    for (let i = 0; i < events.length; i += roundSize) {
      const round = events.slice(i, i + roundSize);
      await send(iso, messages(round));
      await waitFor(
        'the round in HDFS',
        async () => {
          const raw = await hdfsEventIds(iso);
          return round.every((e) => raw.has(e.event_id)) ? true : undefined;
        },
        120_000,
        200,
      );
    }
  } finally {
    await stopWorker(streaming);
  }
}

export interface BatchScenario {
  iso: Isolated;
  /** The raw schema. */
  schema: string;
  /** dbt's schema (its staging and snapshots go to <it>_staging, <it>_snapshots). */
  warehouse: string;
  pool: ReturnType<typeof createPgPool>;
  /** The first column of the first row as a number, 0 when the query fails (a table not there yet). */
  count: (sql: string) => Promise<number>;
  /** Every event in its raw table exactly once, nothing else. */
  assertEachEventOnce: (events: LogEvent[]) => Promise<void>;
}

/**
 * A batch test's own raw schema, dbt schemas and task queue, dropped after the file's tests. With
 * `data`, the scenario reads the HDFS files of another scenario (loads into a schema of its own).
 */
export function batchScenario(name: string, env: Record<string, string>, data?: Isolated): BatchScenario {
  const schema = `raw_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const warehouse = `wh_${schema.slice(4)}`;
  const shared = data
    ? Object.fromEntries(
        ['KAFKA_TOPIC', 'STREAM_GROUP_ID', 'CASSANDRA_KEYSPACE', 'HDFS_RAW_ROOT', 'HDFS_COMPACTED_ROOT'].map(
          (k) => [k, String(data.env[k])],
        ),
      )
    : {};
  const iso = isolated(name, {
    WAREHOUSE_RAW_SCHEMA: schema,
    WAREHOUSE_SCHEMA: warehouse,
    BATCH_TASK_QUEUE: `batch-${schema}`,
    HDFS_ROLL_MAX_EVENTS: '40',
    HDFS_ROLL_MAX_AGE_MS: '200',
    ...env,
    ...shared,
  });
  const pool = createPgPool(iso.config);
  after(async () => {
    for (const s of [schema, warehouse, `${warehouse}_staging`, `${warehouse}_snapshots`])
      await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await pool.end();
    rmSync(join(iso.config.LOGPIPE_DATA_DIR, 'dbt', 'target', warehouse), { recursive: true, force: true });
  });
  const count = async (sql: string) =>
    Number((await pool.query<{ n: string }>(sql).catch(() => undefined))?.rows[0]?.n ?? 0);
  const assertEachEventOnce = async (events: LogEvent[]) => {
    const expected = new Map<string, Set<string>>();
    for (const e of events) {
      const t = TABLE_OF[e.event_type];
      expected.set(t, (expected.get(t) ?? new Set()).add(e.event_id));
    }
    for (const t of Object.values(TABLE_OF)) {
      const r = await pool.query<{ rows: string; distinct: string; expected: string }>(
        `SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct,
                count(*) FILTER (WHERE event_id = ANY($1)) AS expected
         FROM ${schema}.${t}`,
        [[...(expected.get(t) ?? [])]],
      );
      const row = r.rows[0];
      const want = expected.get(t)?.size ?? 0;
      assert.equal(Number(row?.distinct), Number(row?.rows), `${t}: each event once`);
      assert.equal(Number(row?.expected), want, `${t}: every event loaded`);
      assert.equal(Number(row?.rows), want, `${t}: nothing else`);
    }
  };
  return { iso, schema, warehouse, pool, count, assertEachEventOnce };
}

/**
 * Processes of this user whose environment names the warehouse schema (dbt started for it: a dbt
 * process of its own, or a batch worker's long-lived runner, lib/dbt_server.py), with their parents.
 */
export function processesFor(warehouse: string): { pid: number; ppid: number; cmd: string }[] {
  const out: { pid: number; ppid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (!environ.includes(`WAREHOUSE_SCHEMA=${warehouse}`)) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
      // stat: "pid (comm) state ppid …"; comm may hold spaces, so read after its closing paren.
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (/\bdbt(\b|_server\.py)/.test(cmd)) out.push({ pid: Number(name), ppid, cmd });
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

export interface ActivityRun {
  type: string;
  /** The activity's arguments, decoded. */
  args: unknown[];
  /** The attempt that ended the activity (1: no retry). */
  attempt: number;
  /** Why the attempt before it ended, when it was retried. */
  lastFailure: string | undefined;
  /** The worker that ran the attempt that ended it (`<pid>@<host>` by default). */
  identity: string | undefined;
}

/** Every activity of a finished run, from its history, in the order they were scheduled. */
export async function activityRuns(handle: WorkflowHandle): Promise<ActivityRun[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, ActivityRun>();
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const args = (s.input?.payloads ?? []).map((p) =>
        p.data ? (JSON.parse(Buffer.from(p.data).toString('utf8')) as unknown) : undefined,
      );
      scheduled.set(String(e.eventId), {
        type: s.activityType?.name ?? '?',
        args,
        attempt: 0,
        lastFailure: undefined,
        identity: undefined,
      });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const run = scheduled.get(String(started.scheduledEventId));
      if (run) {
        run.attempt = started.attempt ?? 0;
        run.lastFailure = started.lastFailure?.message ?? undefined;
        run.identity = started.identity ?? undefined;
      }
    }
  }
  return [...scheduled.values()];
}
