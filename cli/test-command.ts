// `logpipe test`: the whole suite with Node's test runner, in this order: the end-to-end test (its
// own stack from an empty data directory), integration tests against the real stack, the lifecycle
// test (which restarts the stack), the dashboard in a real browser (Debian's Chromium, installed
// when missing), then the unit tests.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { repoRoot } from '../lib/config.ts';
import { TSX_IMPORT } from '../lib/tsx-import.ts';
import { ensureChromium } from '../stack/chromium.ts';
import { dbt } from '../stack/dbt.ts';
import { postgres } from '../stack/postgres.ts';
import {
  provisionAll,
  serviceStatus,
  stackDown,
  stackStatus,
  stackUp,
  stopServices,
} from '../stack/stack.ts';
import { temporal } from '../stack/temporal.ts';
import type { StackContext } from '../stack/types.ts';
import { pipelineProcesses } from './pipeline.ts';

// The end-to-end test starts its own stack from an empty data directory, on the usual ports: it runs
// before the integration tests, with the usual stack stopped, and brings that stack up when it ends.
// Node's test runner runs the files in the order of their paths, whatever the order given: the
// folder names keep the end-to-end test (it stops and restores the stack) ahead of every test that
// needs the stack.
const SUITES = ['test/e2e', 'test/integration', 'test/lifecycle', 'test/ui', 'test/unit'];

function testFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return testFiles(p);
    return e.endsWith('.test.ts') ? [p] : [];
  });
}

export async function runTests(
  ctx: StackContext,
  opts: { unitOnly: boolean; files: string[]; namePattern?: string },
): Promise<number> {
  const files = opts.files.length
    ? opts.files.map((f) => join(process.cwd(), f))
    : (opts.unitOnly ? ['test/unit'] : SUITES).flatMap((s) => testFiles(join(repoRoot, s)));
  const suite = (f: string) => relative(repoRoot, f).split('/').slice(0, 2).join('/');
  const suites = new Set(files.map(suite));
  const hasE2e = suites.has('test/e2e');
  const needsStack = [...suites].some((s) => s !== 'test/unit' && s !== 'test/e2e');
  const env = { ...process.env };
  if (hasE2e) {
    const processes = pipelineProcesses({ producer: true });
    const running = [
      ...(await stackStatus(ctx)),
      ...(await Promise.all(processes.map((p) => serviceStatus(ctx, p)))),
    ]
      .filter((s) => s.pid !== null)
      .map((s) => s.name);
    if (running.length) {
      process.stderr.write(
        `[test] the end-to-end test needs the stack's ports: stopping ${running.join(', ')} first ...\n`,
      );
      await stopServices(ctx, processes);
      await stackDown(ctx);
    }
    process.stderr.write('[test] making sure every component is installed ...\n');
    await provisionAll(ctx);
    if (needsStack) env.LOGPIPE_TEST_STACK_AFTER_E2E = '1';
  } else if (needsStack) {
    process.stderr.write('[test] making sure the stack is up ...\n');
    await stackUp(ctx);
  }
  if (!needsStack && suites.has('test/unit')) {
    // The workflow tests start their own Temporal dev server from the provisioned CLI, the dbt unit
    // tests their own PostgreSQL for the provisioned dbt.
    await provisionAll(ctx, [temporal, postgres, dbt]);
  }
  if (suites.has('test/ui')) {
    await ensureChromium(ctx.cacheDir, (s) => process.stderr.write(`[test] ${s}\n`));
  }
  const args = [
    ...TSX_IMPORT,
    '--test',
    // The stack's tests share its servers and ports: one file at a time. Unit test files share
    // nothing (temporary dirs, free ports): as many at once as there are cores.
    `--test-concurrency=${needsStack || hasE2e ? 1 : availableParallelism()}`,
    '--test-reporter=spec',
    ...(opts.namePattern ? [`--test-name-pattern=${opts.namePattern}`] : []),
    ...files,
  ];
  const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: repoRoot, env });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}
