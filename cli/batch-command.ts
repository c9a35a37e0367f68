// `logpipe batch run` and `logpipe schedule …`: drive the batch workflow and its schedule.
import type { Command } from 'commander';
import { connectTemporal } from '../lib/clients/temporal.ts';
import { loadConfig } from '../lib/config.ts';
import { errorMessage } from '../lib/errors.ts';
import { SCHEDULE_ID } from '../temporal/names.ts';
import { ensureSchedule } from '../temporal/schedule.ts';
import type { HdfsToWarehouseResult } from '../workflows/hdfs-to-warehouse.ts';

function parseTime(flag: string, text: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new Error(`${flag} expects a date-time such as 2026-01-02T03:00:00Z (got ${JSON.stringify(text)})`);
  return d;
}

async function withClient<T>(
  fn: (client: Awaited<ReturnType<typeof connectTemporal>>) => Promise<T>,
): Promise<T> {
  const client = await connectTemporal(loadConfig());
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

export function registerBatch(program: Command): void {
  program
    .command('batch')
    .description('the batch workflow')
    .command('run')
    .description('start one run of the batch now and print its id (with --wait, its summary)')
    .option('--wait', 'wait for the result; exit non-zero when the run fails')
    .option(
      '--rescan-lake',
      'list the whole lake for compacted files the warehouse lacks (after restoring the warehouse)',
    )
    .action(async (opts: { wait?: boolean; rescanLake?: boolean }) => {
      await withClient(async (client) => {
        const workflowId = `${SCHEDULE_ID}-manual-${new Date().toISOString()}`;
        const handle = await client.workflow.start('hdfsToWarehouse', {
          taskQueue: loadConfig().BATCH_TASK_QUEUE,
          workflowId,
          args: [opts.rescanLake ? { rescanLake: true } : {}],
        });
        process.stdout.write(`started ${workflowId}\n`);
        if (!opts.wait) return;
        try {
          const result = (await handle.result()) as HdfsToWarehouseResult;
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        } catch (err) {
          // The workflow fails with its root cause: the step, the error type, dbt's nodes and log.
          const cause = (err as { cause?: unknown }).cause;
          process.stderr.write(`run ${workflowId} failed: ${errorMessage(cause ?? err)}\n`);
          process.exitCode = 1;
        }
      });
    });

  const schedule = program
    .command('schedule')
    .description(`the ${SCHEDULE_ID} schedule (every 10 minutes, overlap SKIP)`);
  schedule
    .command('create')
    .description('create the schedule, or update it to match the code')
    .action(() =>
      withClient(async (c) => {
        process.stdout.write(`schedule ${SCHEDULE_ID} ${await ensureSchedule(c, loadConfig())}\n`);
      }),
    );
  schedule
    .command('describe')
    .description('show the schedule')
    .action(() =>
      withClient(async (c) => {
        const d = await c.schedule.getHandle(SCHEDULE_ID).describe();
        process.stdout.write(
          `${JSON.stringify(
            {
              scheduleId: d.scheduleId,
              spec: d.spec,
              policies: d.policies,
              paused: d.state.paused,
              note: d.state.note,
              memo: d.memo,
              nextActionTimes: d.info.nextActionTimes,
              recentActions: d.info.recentActions.map((a) => ({
                scheduledAt: a.scheduledAt,
                workflowId: a.action.workflow.workflowId,
              })),
            },
            null,
            2,
          )}\n`,
        );
      }),
    );
  schedule
    .command('trigger')
    .description('start a run now')
    .action(() => withClient(async (c) => c.schedule.getHandle(SCHEDULE_ID).trigger()));
  schedule
    .command('pause')
    .option('--note <text>', 'why', 'paused with logpipe schedule pause')
    .action((o: { note: string }) =>
      withClient(async (c) => c.schedule.getHandle(SCHEDULE_ID).pause(o.note)),
    );
  schedule
    .command('unpause')
    .option('--note <text>', 'why', 'unpaused with logpipe schedule unpause')
    .action((o: { note: string }) =>
      withClient(async (c) => c.schedule.getHandle(SCHEDULE_ID).unpause(o.note)),
    );
  schedule
    .command('delete')
    .action(() => withClient(async (c) => c.schedule.getHandle(SCHEDULE_ID).delete()));
  schedule
    .command('backfill')
    .description('run the schedule for the times between --from and --to')
    .requiredOption('--from <t>', 'start, e.g. 2026-01-02T00:00:00Z')
    .requiredOption('--to <t>', 'end, e.g. 2026-01-02T06:00:00Z')
    .action((o: { from: string; to: string }) =>
      withClient(async (c) =>
        c.schedule.getHandle(SCHEDULE_ID).backfill({
          start: parseTime('--from', o.from),
          end: parseTime('--to', o.to),
          overlap: 'ALLOW_ALL' as never,
        }),
      ),
    );
}
