// Links into the Temporal Web UI, written once: the batch's alerts and the dashboard point at the
// same pages. Pure (no client), so any layer may use them.
import type { Config } from '../lib/config.ts';

type UiConfig = Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'>;

const namespaceUrl = (config: UiConfig) =>
  `${config.TEMPORAL_UI_URL}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}`;

/** A workflow's page; with a run id, that run's event history. */
export function workflowLink(config: UiConfig, workflowId: string, runId?: string): string {
  const base = `${namespaceUrl(config)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/** A schedule's page. */
export const scheduleLink = (config: UiConfig, scheduleId: string) =>
  `${namespaceUrl(config)}/schedules/${encodeURIComponent(scheduleId)}`;
