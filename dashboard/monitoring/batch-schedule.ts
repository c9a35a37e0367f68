// The batch schedule as Temporal describes it: paused or not, the next runs and the recent ones.

import type { Config } from '../../lib/config.ts';
import { errorField } from '../../lib/errors.ts';
import { SCHEDULE_ID } from '../../temporal/names.ts';
import { scheduleLink } from '../../temporal/ui-links.ts';
import type { ScheduleAnswer } from '../api-types.ts';
import type { MonitoringConnections } from './connections.ts';

export async function batchSchedule(
  config: Config,
  connections: MonitoringConnections,
): Promise<ScheduleAnswer> {
  const client = await connections.temporalClient();
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
        url: connections.runUrl(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId),
      })),
      runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
      url: scheduleLink(config, SCHEDULE_ID),
    };
  } catch (err) {
    if (errorField(err, 'name') === 'ScheduleNotFoundError')
      return { id: SCHEDULE_ID, exists: false, paused: null, note: null, nextRuns: [], recent: [] };
    throw err;
  }
}
