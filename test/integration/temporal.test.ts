import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
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

  it('tctl describes a schedule when tctl could be installed', async (t) => {
    if (!existsSync(bin('tctl'))) {
      t.skip(
        'tctl is not installed: the Go module proxy refuses github.com/temporalio/tctl (see stack/temporal.ts)',
      );
      return;
    }
    const scheduleId = `test-tctl-${randomUUID()}`;
    const handle = await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '10m' }] },
      action: { type: 'startWorkflow', workflowType: 'echoWorkflow', taskQueue: 'nowhere', args: [] },
      state: { paused: true },
    });
    try {
      const out = await run(bin('tctl'), [
        '--address',
        config.TEMPORAL_ADDRESS,
        '--namespace',
        config.TEMPORAL_NAMESPACE,
        'schedule',
        'describe',
        '--schedule-id',
        scheduleId,
      ]);
      assert.match(out, new RegExp(scheduleId));
    } finally {
      await handle.delete();
    }
  });
});
