// A bench measures logpipe, not logpipe plus the background pipeline: while it runs, the batch
// schedule is paused (a run in progress is waited for) and the stack's producer is stopped with
// SIGSTOP; both are restored afterwards, whatever the bench's outcome. The producer holds an
// average rate, so after SIGCONT it sends what it owes at its own pace limit.
import { join } from 'node:path';
import type { Config } from '../lib/config.ts';
import { runningPid } from '../stack/process.ts';
import { SCHEDULE_ID } from '../temporal/names.ts';

const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);

async function pauseSchedule(config: Config): Promise<(() => Promise<void>) | undefined> {
  const { connectTemporal, queuePollers } = await import('../lib/clients/temporal.ts');
  let client: Awaited<ReturnType<typeof connectTemporal>>;
  try {
    client = await connectTemporal(config);
  } catch {
    return undefined; // no Temporal server: no schedule to pause
  }
  const handle = client.schedule.getHandle(SCHEDULE_ID);
  const before = await handle.describe().catch(() => undefined);
  if (!before) {
    await client.connection.close();
    return undefined;
  }
  if (!before.state.paused) await handle.pause('paused while logpipe bench runs');
  // A run the schedule started before the pause finishes first: it would share the machine. A run
  // that no batch worker polls for (its workers were stopped) cannot: it is named, not waited for.
  for (let waited = 0; waited < 600_000; waited += 2000) {
    const d = await handle.describe();
    const running = d.info.runningActions[0]?.workflow.workflowId;
    if (!running) break;
    if (waited === 0) {
      const pollers = await queuePollers(
        client,
        config.TEMPORAL_NAMESPACE,
        config.BATCH_TASK_QUEUE,
        'activity',
      );
      if (!pollers.length) {
        say(
          `scheduled run ${running} is open but no batch worker polls ${config.BATCH_TASK_QUEUE}: not waiting for it ` +
            `(to end it: temporal workflow terminate -w ${running} --reason stale)`,
        );
        break;
      }
      say(`waiting for the scheduled batch run in progress (${running}) to finish`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  return async () => {
    if (!before.state.paused) await handle.unpause('logpipe bench finished');
    await client.connection.close();
  };
}

/** Quiets the stack for `work`, then restores it. */
export async function quietly<T>(config: Config, work: () => Promise<T>): Promise<T> {
  const restoreSchedule = await pauseSchedule(config);
  const producer = runningPid(join(config.LOGPIPE_DATA_DIR, 'run', 'producer.pid'));
  const resume = () => {
    if (producer) process.kill(producer, 'SIGCONT');
  };
  if (producer) process.kill(producer, 'SIGSTOP');
  process.once('exit', resume); // even when the bench is interrupted
  if (restoreSchedule || producer)
    say(
      `quiet stack: ${[restoreSchedule && 'schedule paused', producer && `producer ${producer} stopped`].filter(Boolean).join(', ')}`,
    );
  try {
    return await work();
  } finally {
    resume();
    process.off('exit', resume);
    await restoreSchedule?.().catch((err: unknown) => say(`could not unpause the schedule: ${String(err)}`));
  }
}
