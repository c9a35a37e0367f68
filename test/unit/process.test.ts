import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, runningPid, startDetached, stopProcess } from '../../stack/process.ts';

describe('background processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logpipe-proc-'));

  it('starts detached, is found by its pid file, and stops on a signal', async () => {
    const pidFile = join(dir, 'sleep.pid');
    const log = join(dir, 'sleep.log');
    const pid = startDetached(
      { command: 'bash', args: ['-c', 'echo started; exec sleep 300'] },
      log,
      pidFile,
      'sleep',
    );
    assert.equal(runningPid(pidFile), pid);
    // Stop it only once bash has written its line: on a busy machine the signal could come first.
    for (let i = 0; i < 250 && !(existsSync(log) && readFileSync(log, 'utf8').includes('started')); i++)
      await sleep(20);
    const killed = await stopProcess(pid, 'SIGTERM', 5000);
    assert.equal(killed, false);
    assert.equal(isAlive(pid), false);
    assert.match(readFileSync(log, 'utf8'), /started/);
  });

  it('escalates to SIGKILL when a process ignores the stop signal', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const log = join(dir, 's.log');
    const pid = startDetached(
      { command: 'bash', args: ['-c', "trap '' TERM; echo trapped; while true; do sleep 0.1; done"] },
      log,
      pidFile,
      'trap',
    );
    // Only once the trap is set does SIGTERM go unheard.
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('trapped'))) await sleep(20);
    assert.equal(await stopProcess(pid, 'SIGTERM', 500), true);
    assert.equal(isAlive(pid), false);
  });

  it('treats a pid file of a dead process as stale and removes it', () => {
    const pidFile = join(dir, 'dead.pid');
    writeFileSync(pidFile, JSON.stringify({ pid: 2 ** 22 - 1, marker: 'x', startedAt: '' }));
    assert.equal(runningPid(pidFile), undefined);
    assert.equal(existsSync(pidFile), false);
  });

  it('treats a pid reused by an unrelated process as stale', () => {
    const pidFile = join(dir, 'reused.pid');
    // Our own pid is alive, but it started at another time than the recorded process.
    writeFileSync(
      pidFile,
      JSON.stringify({ pid: process.pid, marker: 'CassandraDaemon', startedAt: '', startTicks: 1 }),
    );
    assert.equal(runningPid(pidFile), undefined);
  });

  it('treats a garbled pid file as stale', () => {
    const pidFile = join(dir, 'garbled.pid');
    writeFileSync(pidFile, 'not json');
    assert.equal(runningPid(pidFile), undefined);
    assert.equal(existsSync(pidFile), false);
  });
});

describe('starting a service', () => {
  it('refuses to start when another process already holds its port', async () => {
    const { createServer } = await import('node:net');
    const { startService } = await import('../../stack/stack.ts');
    const { loadConfig } = await import('../../lib/config.ts');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'logpipe-port-'));
    const ctx = {
      config: loadConfig({ LOGPIPE_DATA_DIR: dataDir }),
      dataDir,
      cacheDir: dataDir,
      progress: {
        step: async <T>(_c: string, _w: string, _l: string, fn: () => Promise<T>) => fn(),
        info: () => {},
      },
    };
    let prepared = false;
    const svc = {
      name: 'squatter-test',
      port,
      processMarker: 'sleep',
      prepare: async () => {
        prepared = true;
        return { command: 'sleep', args: ['30'] };
      },
      ready: async () => true,
    };
    await assert.rejects(
      startService(ctx, svc),
      /port \d+ is already in use by a process this stack did not start/,
    );
    assert.equal(prepared, false);
    server.close();
  });
});
