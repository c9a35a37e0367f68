// The batch worker's workflow code, bundled by webpack (Temporal's bundler) in a short-lived child
// process rather than inside the worker: bundling at Worker.create took the worker's peak memory
// to about 490 MiB before it ran a single activity, and left it 400 MiB resident. The child writes
// the bundle under the data dir with a hash of its content in the name and prints the path; the
// worker loads it with `workflowBundle: { codePath }`. The child runs lib/build-workflow-bundle.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { type Config, repoRoot } from './config.ts';
import { writeNamedByContent } from './content-file.ts';

/** The code of workflows/index.ts bundled by webpack (the worker's, and the workflow tests'). */
export async function workflowBundleCode(): Promise<string> {
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(repoRoot, 'workflows/index.ts'),
    // stdout carries the path only; webpack's warnings and errors go to stderr.
    logger: new DefaultLogger('WARN', (e) => process.stderr.write(`[workflow bundle] ${e.message}\n`)),
  });
  return code;
}

/** Bundles workflows/index.ts into `dir`; returns the bundle's path. Runs webpack: call it in a child. */
export async function writeWorkflowBundle(dir: string): Promise<string> {
  return writeNamedByContent(dir, 'workflows-', '.js', await workflowBundleCode());
}

/** Where the worker of this environment keeps its workflow bundles. */
export const workflowBundleDir = (config: Pick<Config, 'LOGPIPE_DATA_DIR'>) =>
  join(config.LOGPIPE_DATA_DIR, 'bundles');

/** Builds the workflow bundle in a child process (its memory is not the worker's); returns its path. */
export async function prebuiltWorkflowBundle(config: Pick<Config, 'LOGPIPE_DATA_DIR'>): Promise<string> {
  const tsx = `file://${join(repoRoot, 'node_modules/tsx/dist/loader.mjs')}`;
  const child = await execa(
    process.execPath,
    ['--import', tsx, join(repoRoot, 'lib/build-workflow-bundle.ts'), workflowBundleDir(config)],
    { stderr: 'inherit' },
  );
  const path = child.stdout.trim().split('\n').at(-1) ?? '';
  if (!path.endsWith('.js') || !existsSync(path))
    throw new Error(`the workflow bundler printed no bundle path (stdout: ${child.stdout.slice(0, 200)})`);
  return path;
}
