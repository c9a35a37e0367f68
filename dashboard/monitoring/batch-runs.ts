// The newest batch runs from Temporal's visibility, each with what it loaded and its dbt tests. A
// closed run's result never changes, so it is fetched once and kept.

import type { Client as TemporalClient } from '@temporalio/client';
import type { Config } from '../../lib/config.ts';
import { errorField, errorMessage } from '../../lib/errors.ts';
import { BATCH_WORKFLOW_TYPE } from '../../temporal/names.ts';
import type { BatchRun, BatchRunOutcome, DbtSummary } from '../api-types.ts';
import type { MonitoringConnections } from './connections.ts';
import { withTimeout } from './time-limit.ts';

/** The dbt field of a batch run's result. */
interface DbtResult {
  ran?: boolean;
  reason?: string;
  models?: number | unknown[];
  tests?: { name: string; status: string; failures?: number | null }[];
}

/** A batch run's dbt field, {models, tests: [{name, status}]}, as counts and the names that failed. */
export function dbtSummary(dbt: DbtResult): DbtSummary {
  const tests = Array.isArray(dbt.tests) ? dbt.tests : [];
  const models = Array.isArray(dbt.models) ? dbt.models.length : (dbt.models ?? null);
  return {
    ran: dbt.ran !== false,
    reason: typeof dbt.reason === 'string' ? dbt.reason : null,
    models,
    tests: tests.length,
    passed: tests.filter((t) => t.status === 'pass' || t.status === 'success').length,
    warned: tests.filter((t) => t.status === 'warn').length,
    warnings: tests
      .filter((t) => t.status === 'warn')
      .map((t) => ({ name: t.name, failures: t.failures ?? null })),
    failed: tests
      .filter((t) => !['pass', 'success', 'warn', 'skipped'].includes(t.status))
      .map((t) => `${t.name}: ${t.status}`),
  };
}

export class BatchRuns {
  private readonly outcomes = new Map<string, BatchRunOutcome>();

  constructor(
    private readonly config: Config,
    private readonly connections: MonitoringConnections,
  ) {}

  /** The newest batch runs, newest first, with their results (cached once a run is closed). */
  async newest(limit: number): Promise<BatchRun[]> {
    const client = await this.connections.temporalClient();
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
        let outcome = this.outcomes.get(key);
        if (!outcome && status !== 'RUNNING') {
          outcome = await this.outcome(client, wf.workflowId, wf.runId, status);
          this.outcomes.set(key, outcome);
        }
        const end = wf.closeTime ?? new Date();
        return {
          workflowId: wf.workflowId,
          runId: wf.runId,
          status,
          startTime: wf.startTime.toISOString(),
          closeTime: wf.closeTime?.toISOString() ?? null,
          durationMs: end.getTime() - wf.startTime.getTime(),
          url: this.connections.runUrl(wf.workflowId, wf.runId),
          ...(outcome ?? {}),
        };
      }),
    );
  }

  private async outcome(
    client: TemporalClient,
    workflowId: string,
    runId: string,
    status: string,
  ): Promise<BatchRunOutcome> {
    const handle = client.workflow.getHandle(workflowId, runId);
    if (status !== 'COMPLETED') {
      try {
        await withTimeout(handle.result(), 5000, 'result');
        return {};
      } catch (err) {
        // The workflow's failure (the step and its cause), under the WorkflowFailedError.
        const cause = (err as { cause?: unknown }).cause;
        const inner = (cause as { cause?: unknown } | undefined)?.cause;
        return { failure: errorField(inner, 'message') ?? errorField(cause, 'message') ?? errorMessage(err) };
      }
    }
    const r = (await withTimeout(handle.result(), 5000, 'result')) as {
      filesNew?: number;
      load?: { inserted?: number; duplicate?: number; rejected?: number; perTable?: Record<string, number> };
      steps?: { step: string; ms: number }[];
      dbt?: DbtResult;
    } | null;
    return {
      filesNew: r?.filesNew ?? null,
      rowsLoaded: r?.load?.inserted ?? null,
      duplicates: r?.load?.duplicate ?? null,
      quarantined: r?.load?.rejected ?? null,
      perTable: r?.load?.perTable ?? {},
      steps: r?.steps ?? [],
      dbt: r?.dbt ? dbtSummary(r.dbt) : null,
    };
  }
}
