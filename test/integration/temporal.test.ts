import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import { loadConfig } from '../../lib/config.ts';
import * as activities from '../fixtures/temporal/echo-activities.ts';

const config = loadConfig();
const bin = (name: string) => join(config.LOGPIPE_DATA_DIR, 'bin', name);

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

describe('Temporal (real dev server, TypeScript SDK)', () => {
  let client: Client;
  before(async () => {
    client = await connectTemporal(config);
  });
  after(() => client.connection.close());

  it('runs a workflow on a real worker', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../fixtures/temporal/echo-workflow.ts', import.meta.url)),
      activities,
    });
    const result = await worker.runUntil(
      client.workflow.execute('echoWorkflow', {
        taskQueue,
        workflowId: `echo-${randomUUID()}`,
        args: ['logpipe'],
      }),
    );
    await connection.close();
    assert.equal(result, 'LOGPIPE!');
  });

  it('creates, describes and deletes a schedule, also through the temporal CLI', async () => {
    const scheduleId = `test-schedule-${randomUUID()}`;
    const handle = await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '10m' }] },
      action: { type: 'startWorkflow', workflowType: 'echoWorkflow', taskQueue: 'nowhere', args: ['x'] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
      state: { paused: true, note: 'created by the foundation test' },
    });
    try {
      const desc = await handle.describe();
      assert.equal(desc.spec.intervals?.[0]?.every, 600_000);
      assert.equal(desc.policies.overlap, 'SKIP');
      assert.equal(desc.state.paused, true);

      const cli = JSON.parse(
        await run(bin('temporal'), [
          'schedule',
          'describe',
          '--schedule-id',
          scheduleId,
          '--address',
          config.TEMPORAL_ADDRESS,
          '--namespace',
          config.TEMPORAL_NAMESPACE,
          '-o',
          'json',
        ]),
      ) as { schedule?: { spec?: { interval?: { interval?: string }[] } } };
      assert.equal(cli.schedule?.spec?.interval?.[0]?.interval, '600s');
    } finally {
      await handle.delete();
    }
    await assert.rejects(client.schedule.getHandle(scheduleId).describe(), /not found|NotFound/i);
  });

  it("tctl: logpipe's compatibility command runs each schedule subcommand on the real server", async () => {
    const scheduleId = `test-tctl-${randomUUID()}`;
    const handle = await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '10m' }] },
      action: { type: 'startWorkflow', workflowType: 'echoWorkflow', taskQueue: 'nowhere', args: [] },
      state: { paused: false },
    });
    const tctl = (...args: string[]) =>
      run(bin('tctl'), [
        '--address',
        config.TEMPORAL_ADDRESS,
        '--namespace',
        config.TEMPORAL_NAMESPACE,
        ...args,
      ]);
    try {
      assert.match(await tctl('schedule', 'list'), new RegExp(scheduleId));
      assert.match(await tctl('schedule', 'describe', '-s', scheduleId), new RegExp(scheduleId));

      await tctl('schedule', 'toggle', '-s', scheduleId, '--pause', '--reason', 'paused by tctl');
      let d = await handle.describe();
      assert.equal(d.state.paused, true);
      assert.equal(d.state.note, 'paused by tctl');
      await tctl('schedule', 'toggle', '--schedule-id', scheduleId, '--unpause', '--reason', 'back on');
      d = await handle.describe();
      assert.equal(d.state.paused, false);

      const before = d.info.numActionsTaken;
      await tctl('schedule', 'trigger', '-s', scheduleId);
      const end = new Date(Date.now() - 3600_000);
      await tctl(
        'schedule',
        'backfill',
        '-s',
        scheduleId,
        '--start-time',
        new Date(end.getTime() - 30 * 60_000).toISOString(),
        '--end-time',
        end.toISOString(),
        '--overlap-policy',
        'AllowAll',
      );
      // One triggered action and three backfilled ones (every 10 minutes over half an hour).
      for (let i = 0; i < 40 && (await handle.describe()).info.numActionsTaken < before + 4; i++) {
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok((await handle.describe()).info.numActionsTaken >= before + 4);

      await tctl('schedule', 'delete', '-s', scheduleId);
      await assert.rejects(handle.describe(), /not found|NotFound/i);
    } finally {
      await handle.delete().catch(() => undefined);
    }
  });

  it('tctl names the temporal command for anything it does not cover, and says what it is', async () => {
    await assert.rejects(run(bin('tctl'), ['workflow', 'list']), /use: temporal workflow list/);
    await assert.rejects(
      run(bin('tctl'), ['schedule', 'update', '-s', 'x']),
      /use: temporal schedule update/,
    );
    assert.match(await run(bin('tctl'), ['--help']), /logpipe's compatibility command/);
  });

  it('tctl runs a real tctl named by TCTL_PATH instead', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        bin('tctl'),
        ['schedule', 'list'],
        { env: { ...process.env, TCTL_PATH: '/bin/echo' } },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    assert.equal(out, 'schedule list\n');
  });
});
