// The batch workflow's logic on a real Temporal dev server (the CLI binary the stack provisions,
// on a free loopback port, in memory) with the real workflow code and mocked activities: plain
// functions that record their calls. What the real-stack tests (test/integration/batch*.test.ts)
// check end to end, checked here at the level of the workflow: the order of the steps, the fan-out
// of compaction and load units, what the result and the alert report, which failures are retried
// and which end the run, the dbt step's outcomes and the continue-as-new of a long backlog.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { BatchActivities, LoadTotals } from '../../activities/batch-activities.ts';
import type { DbtStepResult } from '../../activities/dbt-step.ts';
import type { FileLoad } from '../../activities/load-file.ts';
import { loadConfig } from '../../lib/config.ts';
import type { HourKey } from '../../lib/hdfs-layout.ts';
import { prebuiltWorkflowBundle } from '../../lib/workflow-bundle.ts';
import { stackContext } from '../../stack/stack.ts';
import { temporalBin } from '../../stack/temporal.ts';
import { FAILURE } from '../../temporal/names.ts';
import type { HdfsToWarehouseInput, HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';
import { emptyTotals } from '../../workflows/load-plan.ts';

const file = (hour: number, n: number, bytes = 1000): FileLoad => ({
  path: `/raw/LogEvents/dt=2026-12-02/hour=${String(hour).padStart(2, '0')}/part-${n}.ndjson`,
  kind: 'raw',
  dt: '2026-12-02',
  hour,
  bytes,
});

/** What loading `files` reports in these tests: 10 lines a file, 9 inserted, 1 duplicate. */
const totalsOf = (files: FileLoad[], vanished: string[] = []): LoadTotals => {
  const t = emptyTotals();
  for (const f of files) {
    t.files++;
    if (vanished.includes(f.path)) {
      t.skipped++;
      t.vanished.push(f.path);
      continue;
    }
    t.lines += 10;
    t.inserted += 9;
    t.duplicate += 1;
    t.perTable.search_response = (t.perTable.search_response ?? 0) + 9;
  }
  return t;
};

const dbtBuilt = (nodes: DbtStepResult['nodes']): DbtStepResult => ({
  ran: true,
  plan: {
    run: true,
    snapshot: true,
    testsSince: null,
    loadedUpto: '2026-12-02 05:00:00+00',
    reason: 'no build yet',
  },
  seconds: 1,
  nodes,
  logDir: '/tmp/dbt-runs/x',
});

const BUILT_NODES: DbtStepResult['nodes'] = [
  { name: 'products_snapshot', type: 'snapshot', status: 'success', failures: null, seconds: 0.4 },
  { name: 'fact_orders', type: 'model', status: 'success', failures: null, seconds: 1.25 },
  { name: 'revenue_daily', type: 'model', status: 'success', failures: null, seconds: 0.5 },
  { name: 'unique_fact_orders_order_line_key', type: 'test', status: 'pass', failures: 0, seconds: 0.1 },
];

/**
 * Activities over a small in-memory "HDFS": `files` not loaded yet are discovered, `loadFiles`
 * marks them loaded. Each call is recorded by name (and its arguments); `overrides` replace any.
 */
function mockActivities(
  opts: { files?: FileLoad[]; hours?: HourKey[]; overrides?: Partial<BatchActivities> } = {},
) {
  const calls: { name: string; args: unknown[] }[] = [];
  const loaded = new Set<string>();
  let inFlight = 0;
  let peakLoads = 0;
  const base: BatchActivities = {
    async notify() {
      return true;
    },
    async checkServices() {
      return [{ service: 'hdfs', ok: true, detail: 'answers' }];
    },
    async ensureWarehouseSchema() {},
    async planCompaction() {
      return opts.hours ?? [];
    },
    async compactHour(h) {
      return {
        dt: h.dt,
        hour: h.hour,
        inputs: 3,
        events: 30,
        output: `/compacted/${h.dt}/${h.hour}`,
        resumed: false,
      };
    },
    async discoverNewFiles(options = {}) {
      const all = opts.files ?? [];
      return {
        found: all.length,
        files: all.filter((f) => !loaded.has(f.path)),
        lakeScan: options.rescanLake === true,
      };
    },
    async loadFiles(files) {
      inFlight++;
      peakLoads = Math.max(peakLoads, inFlight);
      await new Promise((r) => setTimeout(r, 50));
      inFlight--;
      for (const f of files) loaded.add(f.path);
      return totalsOf(files);
    },
    async loadCatalog() {
      return { users: 2000, products: 10_000, changed: 0 };
    },
    async validateLoad(paths) {
      return { filesChecked: paths.length };
    },
    async dbt() {
      return dbtBuilt(BUILT_NODES);
    },
    async recordLedger(hs) {
      return {
        hours: [],
        drifted: [],
        watermark: { completeUntil: `${hs[0]?.dt}T00:00:00.000Z` },
        alerted: false,
      };
    },
  };
  const activities = Object.fromEntries(
    Object.entries({ ...base, ...opts.overrides }).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls.push({ name, args });
        return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  );
  return {
    activities,
    calls,
    names: () => calls.map((c) => c.name),
    argsOf: (name: string) => calls.filter((c) => c.name === name).map((c) => c.args),
    peakLoads: () => peakLoads,
    /** What the run's alerts said. */
    alerts: () =>
      calls
        .filter((c) => c.name === 'notify')
        .map((c) => c.args[0] as { ok: boolean; workflowId: string; message: string }),
  };
}

type Mock = ReturnType<typeof mockActivities>;

// One worker for every test, on one task queue: each activity call goes to the mock of the
// workflow it belongs to (the workflow id stays the same across continue-as-new).
const TASK_QUEUE = 'batch-workflow-test';
const mocks = new Map<string, Mock>();
const ACTIVITY_NAMES = Object.keys(mockActivities().activities);
const dispatching = Object.fromEntries(
  ACTIVITY_NAMES.map((name) => [
    name,
    (...args: unknown[]) => {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
      const mock = mocks.get(workflowId);
      if (!mock) throw new Error(`no mock for ${workflowId}`);
      const fn = mock.activities[name] as (...a: unknown[]) => Promise<unknown>;
      return fn(...args);
    },
  ]),
);

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = loadConfig();
  const ctx = stackContext(config);
  const [started, codePath] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalBin(ctx) },
        ip: '127.0.0.1',
        log: { format: 'pretty', level: 'error' },
      },
    }),
    // The batch worker's own bundle of the workflow code (rebuilt only when a source changed).
    prebuiltWorkflowBundle(config),
  ]);
  env = started;
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: TASK_QUEUE,
    workflowBundle: { codePath },
    activities: dispatching,
  });
  running = worker.run();
});

after(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await env?.teardown();
});

/** Runs one workflow with the mock's activities. */
async function runWorkflow(mock: Mock, input: HdfsToWarehouseInput = {}): Promise<HdfsToWarehouseResult> {
  const workflowId = `batch-test-${randomUUID()}`;
  mocks.set(workflowId, mock);
  try {
    return (await env.client.workflow.execute('hdfsToWarehouse', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [input],
    })) as HdfsToWarehouseResult;
  } finally {
    mocks.delete(workflowId);
  }
}

/** The run's failure: the workflow's own ApplicationFailure (step, type, message). */
async function failureOf(run: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await run.then(
    () => assert.fail('the run should have failed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `a WorkflowFailedError, got ${String(err)}`);
  const cause = err.cause as (Error & { type?: string }) | undefined;
  assert.ok(cause, 'the failure has a cause');
  return { type: cause.type, message: cause.message };
}

const hours: HourKey[] = [
  { dt: '2026-12-02', hour: 3 },
  { dt: '2026-12-02', hour: 4 },
  { dt: '2026-12-02', hour: 5 },
];

describe('batch workflow (Temporal dev server, mocked activities)', () => {
  it('runs the steps in order, fans compaction and loads out, and reports what they did', async () => {
    const files = [1, 2, 3, 4, 5].map((n) => file(6, n));
    const vanished = files[4]?.path as string;
    const mock = mockActivities({
      files,
      hours,
      overrides: {
        // The middle hour was compacted by an overlapping run meanwhile: nothing left to do.
        async compactHour(h) {
          return h.hour === 4
            ? null
            : { dt: h.dt, hour: h.hour, inputs: 2, events: 20, output: `/c/${h.hour}`, resumed: false };
        },
        async loadFiles(group) {
          await new Promise((r) => setTimeout(r, 50));
          const t = totalsOf(group, [vanished]);
          if (group.some((f) => f.path === files[0]?.path)) t.rejected = 2;
          return t;
        },
      },
    });
    const result = await runWorkflow(mock, { groupMaxFiles: 2, parallelism: 2 });

    assert.deepEqual(mock.names(), [
      'checkServices',
      'ensureWarehouseSchema',
      'planCompaction',
      'compactHour',
      'compactHour',
      'compactHour',
      'discoverNewFiles',
      'loadFiles',
      'loadFiles',
      'loadFiles',
      'validateLoad',
      'loadCatalog',
      'dbt',
      'recordLedger',
      'notify',
    ]);
    // The ledger records every hour the run touched: those compacted, and those of the files loaded.
    assert.deepEqual(mock.argsOf('recordLedger'), [
      [
        [
          { dt: '2026-12-02', hour: 3 },
          { dt: '2026-12-02', hour: 5 },
          { dt: '2026-12-02', hour: 6 },
        ],
        result.runId,
      ],
    ]);
    assert.deepEqual(result.ledger, {
      drifted: [],
      watermark: { completeUntil: '2026-12-02T00:00:00.000Z' },
      alerted: false,
    });
    // One compaction per hour, one load per group of at most 2 files, in path order, each file once.
    assert.deepEqual(
      mock.argsOf('compactHour').map(([h]) => (h as HourKey).hour),
      [3, 4, 5],
    );
    assert.deepEqual(
      mock.argsOf('loadFiles').map(([g]) => (g as FileLoad[]).map((f) => f.path)),
      [files.slice(0, 2), files.slice(2, 4), files.slice(4)].map((g) => g.map((f) => f.path)),
    );
    for (const [, runId] of [...mock.argsOf('compactHour'), ...mock.argsOf('loadFiles')])
      assert.equal(runId, result.runId, 'every unit carries the run id');
    // The vanished file is not validated (it was not loaded here).
    assert.deepEqual(
      mock.argsOf('validateLoad')[0]?.[0],
      files.slice(0, 4).map((f) => f.path),
    );
    assert.equal(typeof mock.argsOf('validateLoad')[0]?.[1], 'string', 'validated since the run start');
    assert.deepEqual(mock.argsOf('dbt'), [[result.runId]]);

    assert.equal(result.runs, 1);
    assert.equal(result.filesFound, 5);
    assert.equal(result.filesNew, 5);
    assert.equal(result.validated, 4);
    assert.deepEqual(result.compacted, [
      { hour: '2026-12-02T03', inputs: 2, events: 20 },
      { hour: '2026-12-02T05', inputs: 2, events: 20 },
    ]);
    assert.deepEqual(result.load, {
      files: 5,
      skipped: 1,
      lines: 40,
      inserted: 36,
      duplicate: 4,
      rejected: 2,
      perTable: { search_response: 36 },
      vanished: [vanished],
    });
    assert.deepEqual(result.catalog, { users: 2000, products: 10_000, changed: 0 });
    assert.deepEqual(result.dbt, {
      ran: true,
      reason: 'no build yet',
      snapshot: true,
      testsSince: null,
      snapshots: [{ name: 'products_snapshot', status: 'success' }],
      models: [
        { name: 'fact_orders', status: 'success', seconds: 1.25 },
        { name: 'revenue_daily', status: 'success', seconds: 0.5 },
      ],
      tests: [{ name: 'unique_fact_orders_order_line_key', status: 'pass', failures: 0 }],
      warnings: [],
      logDir: '/tmp/dbt-runs/x',
    });
    assert.deepEqual(
      result.steps.map((s) => s.step),
      [
        'check services',
        'schema',
        'plan compaction',
        'compact',
        'discover',
        'load',
        'validate',
        'catalog',
        'dbt',
        'reconcile',
      ],
    );
    assert.deepEqual(mock.argsOf('notify'), [
      [
        {
          ok: true,
          workflowId: result.runId,
          message: '36 rows loaded from 5 files; 2 lines quarantined in rejected_lines',
        },
      ],
    ]);
  });

  it('runs at most `parallelism` load activities at once', async () => {
    const mock = mockActivities({ files: Array.from({ length: 12 }, (_, i) => file(7, i)) });
    const result = await runWorkflow(mock, { groupMaxFiles: 1, parallelism: 3 });
    assert.equal(mock.argsOf('loadFiles').length, 12);
    assert.equal(mock.peakLoads(), 3);
    assert.equal(result.load.inserted, 12 * 9);
  });

  it('with nothing new: no load, dbt reports it did not build; with dbt: false, no dbt at all', async () => {
    const idle = mockActivities({
      overrides: {
        async dbt() {
          return {
            ran: false,
            plan: {
              run: false,
              snapshot: false,
              testsSince: '2026-12-02 05:00:00+00',
              loadedUpto: '2026-12-02 05:00:00+00',
              reason: 'nothing loaded since 2026-12-02 05:00:00+00',
            },
            seconds: 0,
            nodes: [],
            logDir: '/tmp/dbt-runs/y',
          };
        },
      },
    });
    const result = await runWorkflow(idle);
    assert.ok(!idle.names().includes('compactHour'));
    assert.ok(!idle.names().includes('loadFiles'));
    assert.deepEqual(idle.argsOf('validateLoad')[0]?.[0], []);
    assert.equal(result.filesNew, 0);
    assert.deepEqual(result.load, emptyTotals());
    assert.equal(result.dbt?.ran, false);
    assert.equal(result.dbt?.reason, 'nothing loaded since 2026-12-02 05:00:00+00');
    assert.deepEqual([result.dbt?.models, result.dbt?.tests, result.dbt?.warnings], [[], [], []]);
    assert.equal(idle.alerts()[0]?.message, '0 rows loaded from 0 files');

    const noDbt = mockActivities({ files: [file(8, 1)] });
    const r2 = await runWorkflow(noDbt, { dbt: false });
    assert.ok(!noDbt.names().includes('dbt'));
    assert.equal(r2.dbt, null);
    assert.equal(r2.load.inserted, 9);
  });

  it('a ValidationFailed is not retried (even when thrown as retryable): the run fails naming the step, no dbt', async () => {
    let attempts = 0;
    const mock = mockActivities({
      files: [file(9, 1)],
      overrides: {
        async validateLoad() {
          attempts++;
          throw ApplicationFailure.retryable(
            'manifest counts do not add up: /raw/x (10 lines, 9 …)',
            FAILURE.validation,
          );
        },
      },
    });
    const failure = await failureOf(runWorkflow(mock));
    assert.equal(attempts, 1, 'the non-retryable type stops the retries');
    assert.equal(failure.type, 'ValidationFailed');
    assert.equal(
      failure.message,
      'step "validate" failed (ValidationFailed): manifest counts do not add up: /raw/x (10 lines, 9 …)',
    );
    assert.ok(!mock.names().includes('loadCatalog'));
    assert.ok(!mock.names().includes('dbt'));
    // The alert says the same as the failure.
    const alerts = mock
      .argsOf('notify')
      .map(([o]) => o as { ok: boolean; workflowId: string; message: string });
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.ok, false);
    assert.match(String(alerts[0]?.workflowId), /^batch-test-/);
    assert.equal(alerts[0]?.message, failure.message);
  });

  it('a transient load failure is retried and the run completes with exact totals', async () => {
    const files = [file(10, 1), file(10, 2), file(10, 3)];
    const attemptsOf = new Map<string, number>();
    const mock = mockActivities({
      files,
      overrides: {
        async loadFiles(group) {
          const key = group[0]?.path as string;
          const n = (attemptsOf.get(key) ?? 0) + 1;
          attemptsOf.set(key, n);
          if (key === files[1]?.path && n === 1) throw new Error('connection terminated unexpectedly');
          return totalsOf(group);
        },
      },
    });
    const result = await runWorkflow(mock, { groupMaxFiles: 1 });
    assert.deepEqual([...attemptsOf.values()], [1, 2, 1]);
    assert.equal(result.load.files, 3);
    assert.equal(result.load.inserted, 27, 'the failed attempt adds nothing');
    assert.ok(mock.names().includes('dbt'));
  });

  it('a service that stays down fails the run after the checks` two attempts, naming it', async () => {
    const mock = mockActivities({
      overrides: {
        async checkServices() {
          throw new Error('service check failed: hdfs (connect ECONNREFUSED 127.0.0.1:9870)');
        },
      },
    });
    const failure = await failureOf(runWorkflow(mock));
    assert.equal(mock.argsOf('checkServices').length, 2);
    assert.equal(failure.type, 'Error');
    assert.equal(
      failure.message,
      'step "check services" failed (Error): service check failed: hdfs (connect ECONNREFUSED 127.0.0.1:9870)',
    );
    assert.deepEqual(
      mock.names().filter((n) => n !== 'checkServices'),
      ['notify'],
    );
  });

  it('dbt tests that warn are reported in the result and the alert, not fatal', async () => {
    const mock = mockActivities({
      files: [file(11, 1)],
      overrides: {
        async dbt() {
          return dbtBuilt([
            ...BUILT_NODES,
            { name: 'assert_funnel_never_grows', type: 'test', status: 'warn', failures: 3, seconds: 0.2 },
            {
              name: 'not_null_fact_orders_order_id',
              type: 'test',
              status: 'warn',
              failures: null,
              seconds: 0.1,
            },
          ]);
        },
      },
    });
    const result = await runWorkflow(mock);
    assert.deepEqual(result.dbt?.warnings, [
      { name: 'assert_funnel_never_grows', failures: 3 },
      { name: 'not_null_fact_orders_order_id', failures: null },
    ]);
    assert.equal(result.dbt?.tests.length, 3);
    assert.equal(
      mock.alerts()[0]?.message,
      '9 rows loaded from 1 files; data-quality warnings: assert_funnel_never_grows (3 rows), not_null_fact_orders_order_id (? rows)',
    );
  });

  it('a DbtFailed is not retried: the run fails naming the step and the failing node', async () => {
    const mock = mockActivities({
      files: [file(12, 1)],
      overrides: {
        async dbt() {
          throw ApplicationFailure.nonRetryable(
            'dbt build failed: test assert_revenue_never_negative (fail, 1 failing rows) (log: /d/dbt.log)',
            FAILURE.dbt,
          );
        },
      },
    });
    const failure = await failureOf(runWorkflow(mock));
    assert.equal(mock.argsOf('dbt').length, 1);
    assert.equal(failure.type, 'DbtFailed');
    assert.match(
      failure.message,
      /^step "dbt" failed \(DbtFailed\): dbt build failed: .*assert_revenue_never_negative.*dbt\.log/,
    );
    assert.equal(mock.alerts().at(-1)?.ok, false);
  });

  it('a long backlog is loaded a page per run, continuing as new, with dbt once after the last page', async () => {
    const files = [1, 2, 3, 4, 5].map((n) => file(13, n));
    const mock = mockActivities({ files, hours: [{ dt: '2026-12-02', hour: 13 }] });
    const result = await runWorkflow(mock, { filesPerRun: 2, groupMaxFiles: 1 });
    assert.equal(result.runs, 3);
    assert.equal(mock.argsOf('checkServices').length, 3, 'each run of the chain checks the services');
    assert.deepEqual(
      mock.argsOf('loadFiles').map(([g]) => (g as FileLoad[]).map((f) => f.path)),
      files.map((f) => [f.path]),
      'every file once, a page of 2 per run',
    );
    assert.equal(mock.argsOf('loadCatalog').length, 1);
    assert.equal(mock.argsOf('dbt').length, 1);
    assert.equal(mock.argsOf('notify').length, 1, 'one alert for the chain');
    // The totals carried across the runs.
    assert.equal(result.filesNew, 5);
    assert.equal(result.validated, 5);
    assert.equal(result.load.inserted, 45);
    assert.equal(result.compacted.length, 3, 'the hour planned by each run');
    assert.equal(result.steps.filter((s) => s.step === 'load').length, 3);
    assert.equal(result.steps.filter((s) => s.step === 'dbt').length, 1);
    // The hours touched by every run of the chain, recorded once at its end.
    assert.deepEqual(
      mock.argsOf('recordLedger').map(([h]) => h),
      [[{ dt: '2026-12-02', hour: 13 }]],
    );
  });

  it('rescanLake lists the lake in the first run of a chain only: later pages use what it found', async () => {
    const files = [1, 2, 3].map((n) => file(15, n));
    const mock = mockActivities({ files });
    const result = await runWorkflow(mock, { filesPerRun: 1, groupMaxFiles: 1, rescanLake: true });
    assert.equal(result.runs, 3);
    assert.deepEqual(mock.argsOf('discoverNewFiles'), [[{ rescanLake: true }], [{}], [{}]]);
    const plain = mockActivities({ files });
    await runWorkflow(plain, {});
    assert.deepEqual(plain.argsOf('discoverNewFiles'), [[{}]], 'a scheduled run asks for no scan');
  });

  it('maxFiles loads at most that many files in one run, without continuing as new', async () => {
    const files = [1, 2, 3, 4, 5].map((n) => file(14, n));
    const mock = mockActivities({ files });
    const result = await runWorkflow(mock, { maxFiles: 3 });
    assert.equal(result.runs, 1);
    assert.equal(result.filesFound, 5);
    assert.equal(result.filesNew, 3);
    assert.deepEqual(
      mock.argsOf('loadFiles').flatMap(([g]) => (g as FileLoad[]).map((f) => f.path)),
      files.slice(0, 3).map((f) => f.path),
    );
  });
});
