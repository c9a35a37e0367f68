// The batch workflow, started by the `hdfs-to-warehouse` schedule every 10 minutes: check the
// services, compact closed hours (one activity per hour), find the files not loaded yet, load them
// exactly once (one activity per group of files), load the catalog, validate, then dbt.
// Compaction and load activities run a bounded number at a time, so every batch worker polling
// the queue takes a share of one run. A long backlog is loaded a page of files per workflow run,
// continuing as new in between, so the history stays small; dbt runs once, after the last page.
// Deterministic: every side effect is an activity.
import {
  ApplicationFailure,
  ContinueAsNew,
  continueAsNew,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  BatchActivities,
  LedgerResult,
  LoadTotals,
  ServiceCheck,
} from '../activities/batch-activities.ts';
import { errorField, errorMessage, rootError } from '../lib/errors.ts';
import { type HourKey, hourKey } from '../lib/hdfs-layout.ts';
import { FAILURE } from '../temporal/names.ts';
import { DEFAULT_GROUP, fanOut, groupFiles, sumTotals } from './load-plan.ts';

export interface HdfsToWarehouseInput {
  /** Load at most this many files in one run (the rest wait for the next run). */
  maxFiles?: number;
  /** Run dbt after the load (default true). */
  dbt?: boolean;
  /** Compaction and load activities in flight at once, shared by the batch workers (default 4). */
  parallelism?: number;
  /** At most this many files per load activity (default 16; at most 32 MiB of them too). */
  groupMaxFiles?: number;
  /** Files loaded per workflow run before it continues as new (default 2000). */
  filesPerRun?: number;
  /**
   * List the whole lake (the compacted root) for files the manifest lacks, not only the hours
   * the warehouse knows of: after restoring the warehouse, or moving a lake in. A warehouse's
   * first run does it by itself.
   */
  rescanLake?: boolean;
  /** What the earlier runs of a continued chain did (set by the workflow itself). */
  carry?: CarriedProgress;
}

/** The totals a run hands to the run it continues as. */
export interface CarriedProgress {
  runs: number;
  filesNew: number;
  compacted: HdfsToWarehouseResult['compacted'];
  load: LoadTotals;
  validated: number;
  steps: StepTime[];
  /** Hours compacted or loaded so far (`YYYY-MM-DDTHH`): the ledger records them at the end. */
  hours?: string[];
}

export interface DbtSummary {
  /** False when nothing was loaded and nothing changed since the last build: dbt did not start. */
  ran: boolean;
  /** Why it ran (or did not). */
  reason: string;
  /** Whether the products snapshot ran (only when the catalog changed). */
  snapshot: boolean;
  /** Generic tests of the incremental models read rows loaded after this; null: a full sweep. */
  testsSince: string | null;
  snapshots: { name: string; status: string }[];
  /** With each model's build time: what a run's dbt time went to. */
  models: { name: string; status: string; seconds: number }[];
  tests: { name: string; status: string; failures: number | null }[];
  /** Data-quality tests of severity warn that found rows: anomalies of the source data, reported, not fatal. */
  warnings: { name: string; failures: number | null }[];
  /** dbt.log and the run_results.json of each command. */
  logDir: string;
}

export interface StepTime {
  step: string;
  /** When the step began (epoch ms, workflow time), so a bench can match it to its own samples. */
  startedAt?: number;
  ms: number;
}

export interface HdfsToWarehouseResult {
  runId: string;
  /** Workflow runs of the chain (1 unless a backlog made it continue as new). */
  runs: number;
  services: ServiceCheck[];
  filesFound: number;
  filesNew: number;
  compacted: { hour: string; inputs: number; events: number }[];
  load: LoadTotals;
  catalog: { users: number; products: number; changed: number };
  validated: number;
  /** Null when the run was started with dbt: false. */
  dbt: DbtSummary | null;
  /** The reconciliation of the hours the run touched, recorded in the ledger (null: none touched). */
  ledger: Omit<LedgerResult, 'hours'> | null;
  steps: StepTime[];
}

// Every group has a heartbeat timeout, and every activity heartbeats every two seconds (dbt every
// five) while it runs: a worker that dies (kill -9, a lost machine) is noticed within that time
// and the attempt is retried on another worker, instead of after the start-to-close timeout.
const checks = proxyActivities<BatchActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  // The original's health-check task: fail fast, naming the service.
  retry: { maximumAttempts: 2, initialInterval: '2 seconds' },
});

const io = proxyActivities<BatchActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [FAILURE.validation],
  },
});

const dbt = proxyActivities<BatchActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    // A failing model or test fails the same way again.
    nonRetryableErrorTypes: [FAILURE.dbt],
  },
});

const alerts = proxyActivities<BatchActivities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

export async function hdfsToWarehouse(input: HdfsToWarehouseInput = {}): Promise<HdfsToWarehouseResult> {
  const workflowId = workflowInfo().workflowId;
  const progress: RunProgress = { step: 'start' };
  let result: HdfsToWarehouseResult;
  try {
    result = await runBatch(input, progress);
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // the next page of a backlog, not a failure
    // The run fails with its root cause on top, so `batch run --wait`, the alert and the Web UI
    // all say which step failed, with what type of error, and what it said (dbt nodes, log path).
    const cause = rootCause(err);
    const message = `step "${progress.step}" failed (${cause.type}): ${cause.message}`;
    // Alerts never change a run's outcome.
    await alerts.notify({ ok: false, workflowId, message }).catch(() => false);
    throw ApplicationFailure.create({ message, type: cause.type, nonRetryable: true, cause: err as Error });
  }
  const warnings = result.dbt?.warnings ?? [];
  const warned = warnings.length
    ? `; data-quality warnings: ${warnings.map((w) => `${w.name} (${w.failures ?? '?'} rows)`).join(', ')}`
    : '';
  const quarantined = result.load.rejected
    ? `; ${result.load.rejected} lines quarantined in rejected_lines`
    : '';
  await alerts
    .notify({
      ok: true,
      workflowId,
      message: `${result.load.inserted} rows loaded from ${result.filesNew} files${quarantined}${warned}`,
    })
    .catch(() => false);
  return result;
}

interface RunProgress {
  step: string;
}

/** The innermost failure: an activity's ApplicationFailure under its ActivityFailure. */
function rootCause(err: unknown): { type: string; message: string } {
  const e = rootError(err);
  return { type: errorField(e, 'type') ?? errorField(e, 'name') ?? 'Error', message: errorMessage(e) };
}

async function runBatch(input: HdfsToWarehouseInput, progress: RunProgress): Promise<HdfsToWarehouseResult> {
  const carry = input.carry;
  const steps: StepTime[] = [...(carry?.steps ?? [])];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    progress.step = step;
    const t0 = Date.now();
    const out = await fn();
    steps.push({ step, startedAt: t0, ms: Date.now() - t0 });
    return out;
  };
  const runId = workflowInfo().workflowId;
  const since = new Date(workflowInfo().runStartTime).toISOString();
  const parallelism = Math.max(1, input.parallelism ?? 4);
  const services = await timed('check services', () => checks.checkServices());
  await timed('schema', () => io.ensureWarehouseSchema());
  const hours = await timed('plan compaction', () => io.planCompaction());
  const compactedNow = await timed('compact', () =>
    fanOut(hours, parallelism, (h) => io.compactHour(h, runId)),
  );
  // Later pages of a chain find what the scan found without listing the lake again.
  const rescanLake = input.rescanLake === true && !carry;
  const discovered = await timed('discover', () => io.discoverNewFiles(rescanLake ? { rescanLake } : {}));
  const pageSize = Math.max(1, input.filesPerRun ?? 2000);
  const wanted = discovered.files.slice(0, input.maxFiles ?? discovered.files.length);
  const files = wanted.slice(0, pageSize);
  const groups = groupFiles(files, {
    ...DEFAULT_GROUP,
    maxFiles: input.groupMaxFiles ?? DEFAULT_GROUP.maxFiles,
  });
  const loads = await timed('load', () => fanOut(groups, parallelism, (g) => io.loadFiles(g, runId)));
  const loadNow = sumTotals(loads);
  const gone = new Set(loadNow.vanished);
  const validatedNow = await timed('validate', () =>
    io.validateLoad(
      files.map((f) => f.path).filter((p) => !gone.has(p)),
      since,
    ),
  );
  const compacted = [
    ...(carry?.compacted ?? []),
    ...compactedNow
      .filter((c) => c !== null)
      .map((c) => ({
        hour: hourKey(c.dt, c.hour),
        inputs: c.inputs,
        events: c.events,
      })),
  ];
  const load = carry ? sumTotals([carry.load, loadNow]) : loadNow;
  const filesNew = (carry?.filesNew ?? 0) + files.length;
  const validated = (carry?.validated ?? 0) + validatedNow.filesChecked;
  const runs = (carry?.runs ?? 0) + 1;
  const touched = new Set([
    ...(carry?.hours ?? []),
    ...compacted.map((c) => c.hour),
    ...files.map((f) => hourKey(f.dt, f.hour)),
  ]);
  const touchedHours = [...touched].sort();
  if (wanted.length > files.length && input.maxFiles === undefined) {
    // More backlog than one run's page: the next run of the chain takes the next page.
    await continueAsNew<typeof hdfsToWarehouse>({
      ...input,
      carry: { runs, filesNew, compacted, load, validated, steps, hours: touchedHours },
    });
  }
  const catalog = await timed('catalog', () => io.loadCatalog());
  // Lines that could not be loaded are in raw.rejected_lines (load.rejected counts them): the run
  // goes on, and its alert names them.
  let dbtSummary: DbtSummary | null = null;
  if (input.dbt ?? true) {
    const r = await timed('dbt', () => dbt.dbt(runId));
    dbtSummary = {
      ran: r.ran,
      reason: r.plan.reason,
      snapshot: r.plan.snapshot,
      testsSince: r.plan.testsSince,
      snapshots: r.nodes.filter((n) => n.type === 'snapshot').map(({ name, status }) => ({ name, status })),
      models: r.nodes
        .filter((n) => n.type === 'model')
        .map(({ name, status, seconds }) => ({ name, status, seconds })),
      tests: r.nodes
        .filter((n) => n.type === 'test')
        .map(({ name, status, failures }) => ({ name, status, failures })),
      warnings: r.nodes
        .filter((n) => n.type === 'test' && n.status === 'warn')
        .map(({ name, failures }) => ({ name, failures })),
      logDir: r.logDir,
    };
  }
  // Every hour the run touched, counted in every store: the ledger, the watermark, the drift alert.
  // (patched: a run that an older worker started goes on as it began.)
  let ledger: HdfsToWarehouseResult['ledger'] = null;
  if (touchedHours.length && patched('reconcile-ledger')) {
    const { hours: _reports, ...summary } = await timed('reconcile', () =>
      io.recordLedger(touchedHours.map(parseHourKey), runId),
    );
    ledger = summary;
  }
  return {
    runId,
    runs,
    services,
    filesFound: discovered.found,
    filesNew,
    compacted,
    load,
    catalog,
    validated,
    dbt: dbtSummary,
    ledger,
    steps,
  };
}

/** `YYYY-MM-DDTHH` back to its hour. */
const parseHourKey = (key: string): HourKey => ({ dt: key.slice(0, 10), hour: Number(key.slice(11, 13)) });
