// `logpipe test`: the whole suite with Node's test runner. Unit tests first, then integration
// tests against the real stack (started first if it is not up), then the dashboard in a real browser
// (Debian's Chromium, installed when missing), then the lifecycle test, which restarts the stack.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../lib/config.ts';
import { ensureChromium } from '../stack/chromium.ts';
import { stackUp } from '../stack/stack.ts';
import type { StackContext } from '../stack/types.ts';

const SUITES = ['test/unit', 'test/integration', 'test/browser', 'test/lifecycle'];

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
  opts: { unitOnly: boolean; files: string[] },
): Promise<number> {
  const files = opts.files.length
    ? opts.files.map((f) => join(process.cwd(), f))
    : (opts.unitOnly ? SUITES.slice(0, 1) : SUITES).flatMap((s) => testFiles(join(repoRoot, s)));
  const needsStack = files.some((f) => !relative(repoRoot, f).startsWith('test/unit'));
  if (needsStack) {
    process.stderr.write('[test] making sure the stack is up ...\n');
    await stackUp(ctx);
  }
  if (files.some((f) => relative(repoRoot, f).startsWith('test/browser'))) {
    await ensureChromium(ctx.cacheDir, (s) => process.stderr.write(`[test] ${s}\n`));
  }
  const loader = `file://${join(repoRoot, 'node_modules/tsx/dist/loader.mjs')}`;
  const args = ['--import', loader, '--test', '--test-concurrency=1', '--test-reporter=spec', ...files];
  const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: repoRoot, env: process.env });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}
