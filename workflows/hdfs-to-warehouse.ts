// The batch workflow, started by the `hdfs-to-warehouse` schedule every 10 minutes: check the
// services, find the raw files not loaded yet, compact closed hours, load new files exactly once,
// load the catalog, validate, then dbt snapshot, run and test.
// Deterministic: every side effect is an activity.
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { BatchActivities, LoadTotals, ServiceCheck } from '../activities/batch-activities.ts';
import type { DbtStepResult } from '../activities/dbt-step.ts';

export interface HdfsToWarehouseInput {
  /** Load at most this many files in one run (the rest wait for the next run). */
  maxFiles?: number;
  /** Run dbt after the load (default true). */
  dbt?: boolean;
}

export interface DbtSummary {
  snapshots: { name: string; status: string }[];
  models: { name: string; status: string }[];
  tests: { name: string; status: string; failures: number | null }[];
  /** Data-quality tests of severity warn that found rows: anomalies of the source data, reported, not fatal. */
  warnings: { name: string; failures: number | null }[];
  /** dbt.log and the run_results.json of each command. */
  logDir: string;
}

export interface StepTime {
  step: string;
  ms: number;
}

export interface HdfsToWarehouseResult {
  runId: string;
  services: ServiceCheck[];
  filesFound: number;
  filesNew: number;
  compacted: { hour: string; inputs: number; events: number }[];
  load: LoadTotals;
  catalog: { users: number; products: number };
  validated: number;
  /** Null when the run was started with dbt: false. */
  dbt: DbtSummary | null;
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
    nonRetryableErrorTypes: ['ValidationFailed'],
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
    nonRetryableErrorTypes: ['DbtFailed'],
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
  let e = err as { cause?: unknown; type?: string; message?: string; name?: string } | undefined;
  while (e?.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  return {
    type: e?.type ?? e?.name ?? 'Error',
    message: e?.message ?? String(err),
  };
}

async function runBatch(input: HdfsToWarehouseInput, progress: RunProgress): Promise<HdfsToWarehouseResult> {
  const steps: StepTime[] = [];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    progress.step = step;
    const t0 = Date.now();
    const out = await fn();
    steps.push({ step, ms: Date.now() - t0 });
    return out;
  };
  const runId = workflowInfo().workflowId;
  const services = await timed('check services', () => checks.checkServices());
  await timed('schema', () => io.ensureWarehouseSchema());
  const before = await timed('discover', () => io.discoverNewFiles());
  const compaction = await timed('compact', () => io.compactClosedHours());
  // Compaction replaced raw files of closed hours with compacted ones: list again what to load.
  const discovered = compaction.length
    ? await timed('discover compacted', () => io.discoverNewFiles())
    : before;
  const files = discovered.files.slice(0, input.maxFiles ?? discovered.files.length);
  const load = await timed('load', () => io.loadFiles(files, runId));
  const catalog = await timed('catalog', () => io.loadCatalog());
  const gone = new Set(load.vanished ?? []);
  const validated = await timed('validate', () =>
    io.validateLoad(files.map((f) => f.path).filter((p) => !gone.has(p))),
  );
  // Lines that could not be loaded are in raw.rejected_lines (load.rejected counts them): the run
  // goes on, and its alert names them.
  let dbtSummary: DbtSummary | null = null;
  if (input.dbt ?? true) {
    const results: DbtStepResult[] = [];
    for (const command of ['snapshot', 'run', 'test'] as const)
      results.push(await timed(`dbt ${command}`, () => dbt.dbt(command, runId)));
    const nodes = results.flatMap((r) => r.nodes);
    dbtSummary = {
      snapshots: nodes.filter((n) => n.type === 'snapshot').map(({ name, status }) => ({ name, status })),
      models: nodes.filter((n) => n.type === 'model').map(({ name, status }) => ({ name, status })),
      tests: nodes
        .filter((n) => n.type === 'test')
        .map(({ name, status, failures }) => ({ name, status, failures })),
      warnings: nodes
        .filter((n) => n.type === 'test' && n.status === 'warn')
        .map(({ name, failures }) => ({ name, failures })),
      logDir: results[0]?.logDir ?? '',
    };
  }
  return {
    runId,
    services,
    filesFound: before.found,
    filesNew: files.length,
    compacted: compaction.map((c) => ({
      hour: `${c.dt}T${String(c.hour).padStart(2, '0')}`,
      inputs: c.inputs,
      events: c.events,
    })),
    load,
    catalog,
    validated: validated.filesChecked,
    dbt: dbtSummary,
    steps,
  };
}
