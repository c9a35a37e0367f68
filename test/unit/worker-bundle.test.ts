import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../lib/config.ts';
import { logpipeNodeArgs, logpipeNodeEnv } from '../../lib/node-args.ts';
import { streamingWorkerBundle } from '../../lib/worker-bundle.ts';

describe('the streaming worker bundle', () => {
  it('lives in node_modules so that packages resolve and repoRoot is still the repository', () => {
    const path = streamingWorkerBundle();
    assert.equal(basename(dirname(path)), 'node_modules');
    assert.equal(resolve(dirname(path), '..'), repoRoot);
    assert.match(basename(path), /^\.logpipe-streaming-worker-[0-9a-f]{12}\.mjs$/);
    // Same sources, same file: concurrent starts agree on one path.
    assert.equal(streamingWorkerBundle(), path);
    const js = readFileSync(path, 'utf8');
    // The CLI and the tsx loader are not in the worker's process.
    assert.doesNotMatch(js, /from ["']commander["']/);
    assert.doesNotMatch(js, /tsx/);
    assert.match(js, /from ["']kafkajs["']/);
  });

  it('is what logpipeNodeArgs runs for `worker stream`, with the heap cap', () => {
    const args = logpipeNodeArgs(['worker', 'stream']);
    assert.equal(args.length, 2);
    assert.match(args[0] ?? '', /^--max-old-space-size=\d+$/);
    assert.equal(args[1], streamingWorkerBundle());
    // glibc's arenas are tuned for the worker only, and a value the user set wins.
    assert.equal(
      logpipeNodeEnv(['worker', 'stream']).MALLOC_MMAP_THRESHOLD_,
      process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
    );
    assert.deepEqual(logpipeNodeEnv(['worker', 'batch']), {});
    // Any other command goes through the CLI.
    assert.ok(logpipeNodeArgs(['worker', 'batch']).some((a) => a.endsWith('cli/main.ts')));
  });

  it('run by plain node, stops on a bad setting with a message that names it', () => {
    const run = spawnSync(process.execPath, [streamingWorkerBundle()], {
      env: { ...process.env, KAFKA_PARTITIONS: 'abc', STREAM_BUFFER_MAX_BYTES: '12' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /KAFKA_PARTITIONS=/);
    assert.match(run.stderr, /STREAM_BUFFER_MAX_BYTES=/);
  });
});
