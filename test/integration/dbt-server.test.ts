// The batch worker's long-lived dbt runner (lib/dbt_server.py through lib/dbt-server.ts), with the
// real dbt install: the manifest is reused only while the project and the environment are the same,
// a dbt error comes back as a failed command (the runner stays), and a runner that dies or is
// cancelled mid-command fails that command clearly and is replaced by the next one. Its builds'
// results are checked in warehouse.test.ts (incremental steps on the runner, full refresh without).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, repoRoot } from '../../lib/config.ts';
import { dbtEnv, dbtPython } from '../../lib/dbt.ts';
import { DbtServer } from '../../lib/dbt-server.ts';

/** Whether `pid` is gone or a zombie (dead, not yet reaped by init) within `ms`. */
async function deadWithin(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) {
    try {
      if (readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.startsWith('Z')) return true;
    } catch {
      return true;
    }
  }
  return false;
}

describe('long-lived dbt runner (real dbt)', () => {
  const config = loadConfig();
  const server = new DbtServer(dbtPython(config.LOGPIPE_CACHE_DIR));
  const dir = join(tmpdir(), `logpipe-dbt-server-${process.pid}`);
  const env = (schema: string) => ({
    ...dbtEnv(config, { targetPath: join(dir, schema, 'target'), logPath: join(dir, schema, 'logs') }),
    WAREHOUSE_SCHEMA: schema,
  });
  const ls = ['ls', '--resource-type', 'model', '--output', 'name', '--quiet'];

  after(() => server.stop());

  it('parses once, reuses the manifest, and parses again for another environment', async () => {
    const first = await server.run(ls, env('wh_a'));
    assert.equal(first.exitCode, 0, first.output.join('\n'));
    assert.equal(first.parsed, true);
    assert.ok(first.output.includes('fact_events'), 'the models are listed');
    const pid = server.pid;
    const again = await server.run(ls, env('wh_a'));
    assert.equal(again.exitCode, 0);
    assert.equal(again.parsed, false, 'the same project and environment: no parse');
    assert.deepEqual(
      again.output.filter((l) => l === 'fact_events'),
      ['fact_events'],
    );
    const other = await server.run(ls, env('wh_b'));
    assert.equal(other.parsed, true, 'another WAREHOUSE_SCHEMA: parsed again');
    assert.equal(server.pid, pid, 'one runner all along');
  });

  it('a command dbt refuses fails with its exit code, and the runner goes on', async () => {
    const pid = server.pid;
    const bad = await server.run(['run', '--threads', 'x'], env('wh_a'));
    assert.notEqual(bad.exitCode, 0);
    assert.match(bad.error ?? bad.output.join('\n'), /threads|invalid|x/i);
    const ok = await server.run(ls, env('wh_a'));
    assert.equal(ok.exitCode, 0);
    assert.equal(server.pid, pid, 'the same runner');
  });

  it('a runner killed mid-command fails that command and the next one starts another', async () => {
    // Another environment makes the command parse (seconds): it is still running when killed.
    const running = server.run(ls, env('wh_c'));
    await sleep(500);
    const pid = server.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await assert.rejects(running, /the dbt runner exited \(SIGKILL\)/);
    const next = await server.run(ls, env('wh_c'));
    assert.equal(next.exitCode, 0);
    assert.equal(next.parsed, true, 'a new runner parses');
    assert.notEqual(server.pid, pid);
  });

  it('a cancelled command stops its runner; queued commands run on the next', async () => {
    const controller = new AbortController();
    const cancelled = server.run(ls, env('wh_d'), controller.signal);
    const queued = server.run(ls, env('wh_d'));
    await sleep(500);
    const pid = server.pid;
    controller.abort();
    await assert.rejects(cancelled, /the dbt runner exited/);
    const after = await queued;
    assert.equal(after.exitCode, 0);
    assert.notEqual(server.pid, pid, 'a new runner took the queued command');
  });

  it('holds its process only while a command runs: an idle runner lets it exit', async () => {
    const script = join(repoRoot, 'test', 'helpers', 'dbt-server-once.ts');
    // Bounded: a process held open by its idle runner is killed at the timeout and fails here.
    const result = await new Promise<{ code: number | string | null; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', script, join(dir, 'once')],
          { cwd: repoRoot, timeout: 180_000, killSignal: 'SIGKILL' },
          (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal ?? 1) : 0, stdout, stderr }),
        );
      },
    );
    assert.equal(result.code, 0, `the process ended by itself: ${result.stderr.slice(-2000)}`);
    const line = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    assert.equal(line.exitCode, 0);
    assert.ok(line.models.includes('fact_events'), 'it stayed alive until the command replied');
    // The runner dies with its parent (lib/die_with_parent.py): none is left behind.
    assert.ok(await deadWithin(line.pid, 10_000), `runner ${line.pid} outlived its parent`);
  });
});
