import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../lib/config.ts';
import {
  BATCH_WORKER_HEAP_MIB,
  logpipeNodeArgs,
  logpipeNodeEnv,
  WORKER_HEAP_MIB,
} from '../../lib/node-args.ts';
import { type WorkerKind, workerBundle } from '../../lib/worker-bundle.ts';
import {
  cachedWorkflowBundle,
  prebuiltWorkflowBundle,
  workflowSourceKey,
} from '../../lib/workflow-bundle.ts';

const NAMES: Record<WorkerKind, string> = { stream: 'streaming-worker', batch: 'batch-worker' };

for (const kind of ['stream', 'batch'] as const) {
  describe(`the ${kind} worker bundle`, () => {
    it('lives in node_modules so that packages resolve and repoRoot is still the repository', () => {
      const path = workerBundle(kind);
      assert.equal(basename(dirname(path)), 'node_modules');
      assert.equal(resolve(dirname(path), '..'), repoRoot);
      assert.match(basename(path), new RegExp(`^\\.logpipe-${NAMES[kind]}-[0-9a-f]{12}\\.mjs$`));
      // Same sources, same file: concurrent starts agree on one path.
      assert.equal(workerBundle(kind), path);
      const js = readFileSync(path, 'utf8');
      // The CLI and the tsx loader are not in the worker's process.
      assert.doesNotMatch(js, /from ["']commander["']/);
      assert.doesNotMatch(js, /from ["']tsx/);
      assert.match(js, kind === 'stream' ? /from ["']kafkajs["']/ : /from ["']@temporalio\/worker["']/);
    });

    it('is what logpipeNodeArgs runs, with glibc tuned and a value the user set winning', () => {
      const args = logpipeNodeArgs(['worker', kind]);
      assert.equal(args.at(-1), workerBundle(kind));
      // Each worker has its heap cap, the one the ./logpipe script gives it.
      assert.deepEqual(args.slice(0, -1), [
        `--max-old-space-size=${kind === 'stream' ? WORKER_HEAP_MIB : BATCH_WORKER_HEAP_MIB}`,
      ]);
      const script = readFileSync(join(repoRoot, 'logpipe'), 'utf8');
      assert.match(
        script,
        new RegExp(`--max-old-space-size=${kind === 'stream' ? WORKER_HEAP_MIB : BATCH_WORKER_HEAP_MIB}\\b`),
      );
      assert.equal(
        logpipeNodeEnv(['worker', kind]).MALLOC_MMAP_THRESHOLD_,
        process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
      );
    });

    it('run by plain node, stops on a bad setting with a message that names it', () => {
      const run = spawnSync(process.execPath, [workerBundle(kind)], {
        env: { ...process.env, KAFKA_PARTITIONS: 'abc', BATCH_WORKER_ACTIVITIES: '0' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /KAFKA_PARTITIONS=/);
      assert.match(run.stderr, /BATCH_WORKER_ACTIVITIES=/);
    });
  });
}

describe('any other command', () => {
  it('goes through the CLI with no worker tuning', () => {
    assert.ok(logpipeNodeArgs(['produce', '--count', '1']).some((a) => a.endsWith('cli/main.ts')));
    assert.ok(logpipeNodeArgs(['worker', 'batch', '--help']).some((a) => a.endsWith('cli/main.ts')));
    assert.deepEqual(logpipeNodeEnv(['dashboard']), {});
  });
});

describe('the workflow bundle', () => {
  it('is built in a child process into the data dir, named by its content, with every workflow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logpipe-wf-bundle-'));
    try {
      const path = await prebuiltWorkflowBundle({ LOGPIPE_DATA_DIR: dir });
      assert.equal(dirname(path), join(dir, 'bundles'));
      assert.match(basename(path), /^workflows-[0-9a-f]{12}\.js$/);
      const js = readFileSync(path, 'utf8');
      assert.match(js, /hdfsToWarehouse/);
      // The same sources: the bundle built before, found by the sources' key without a rebuild.
      assert.equal(cachedWorkflowBundle({ LOGPIPE_DATA_DIR: dir }), path);
      assert.equal(await prebuiltWorkflowBundle({ LOGPIPE_DATA_DIR: dir }), path);
      assert.equal(cachedWorkflowBundle({ LOGPIPE_DATA_DIR: dir }, 'another-key'), undefined);
      rmSync(path);
      assert.equal(cachedWorkflowBundle({ LOGPIPE_DATA_DIR: dir }), undefined, 'a bundle gone is rebuilt');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is keyed by the content of every source it can import', () => {
    const root = mkdtempSync(join(tmpdir(), 'logpipe-wf-src-'));
    try {
      for (const d of ['workflows', 'temporal', 'lib/events', 'activities'])
        mkdirSync(join(root, d), { recursive: true });
      writeFileSync(join(root, 'package-lock.json'), '{}');
      writeFileSync(join(root, 'workflows/index.ts'), 'export {};');
      writeFileSync(join(root, 'lib/events/enums.ts'), "export const A = ['x'];");
      const before = workflowSourceKey(root);
      assert.equal(workflowSourceKey(root), before);
      writeFileSync(join(root, 'lib/events/enums.ts'), "export const A = ['y'];");
      const changed = workflowSourceKey(root);
      assert.notEqual(changed, before, 'a nested lib file counts');
      writeFileSync(join(root, 'README.md'), 'not a source');
      assert.equal(workflowSourceKey(root), changed);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
