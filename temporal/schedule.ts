// The `hdfs-to-warehouse` schedule, with explicit policies: every 10 minutes, overlap SKIP (a run
// never starts while the previous one runs), a one-hour catch-up window. Created, or updated to
// match this code, idempotently. Scheduled runs get workflow ids `hdfs-to-warehouse-<scheduled time>`.
import {
  type Client,
  ScheduleNotFoundError,
  type ScheduleOptions,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { Config } from '../lib/config.ts';
import type { hdfsToWarehouse } from '../workflows/hdfs-to-warehouse.ts';
import { SCHEDULE_ID } from './names.ts';

export const SCHEDULE_MEMO =
  'Every 10 minutes: check services, load new HDFS raw files into PostgreSQL exactly once, validate (logpipe)';

export function scheduleOptions(config: Pick<Config, 'BATCH_TASK_QUEUE'>): ScheduleOptions {
  return {
    scheduleId: SCHEDULE_ID,
    spec: { intervals: [{ every: '10m' }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'hdfsToWarehouse' as unknown as typeof hdfsToWarehouse,
      workflowId: SCHEDULE_ID,
      taskQueue: config.BATCH_TASK_QUEUE,
      args: [{}],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h', pauseOnFailure: false },
    memo: { description: SCHEDULE_MEMO },
    state: { note: 'managed by logpipe (temporal/schedule.ts)' },
  };
}

/** Creates the schedule, or brings an existing one in line with the code. */
export async function ensureSchedule(
  client: Client,
  config: Pick<Config, 'BATCH_TASK_QUEUE'>,
): Promise<'created' | 'updated'> {
  const opts = scheduleOptions(config);
  const handle = client.schedule.getHandle(SCHEDULE_ID);
  try {
    await handle.describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await client.schedule.create(opts);
    return 'created';
  }
  await handle.update(
    (prev) =>
      ({
        ...prev,
        spec: opts.spec,
        action: opts.action,
        policies: { ...prev.policies, ...opts.policies },
      }) as never,
  );
  return 'updated';
}
