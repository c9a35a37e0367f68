// The batch worker's workflow code, bundled by webpack (Temporal's bundler) in a short-lived child
// process rather than inside the worker: bundling at Worker.create took the worker's peak memory
// to about 490 MiB before it ran a single activity, and left it 400 MiB resident. The child writes
// the bundle under the data dir with a hash of its content in the name and prints the path; the
// worker loads it with `workflowBundle: { codePath }`. The child runs lib/build-workflow-bundle.ts.
// A bundle is reused while the sources it can come from are unchanged (a key of their contents
// names it), so a worker start or restart spends no webpack run on code it has bundled before.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { type Config, repoRoot } from './config.ts';
import { writeNamedByContent } from './content-file.ts';
import { TSX_IMPORT } from './tsx-import.ts';

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

/** Every folder whose files a workflow can import (type-only imports included: conservative). */
const WORKFLOW_SOURCE_DIRS = ['workflows', 'temporal', 'lib', 'activities'];

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = join(dir, e);
      return statSync(p).isDirectory() ? sourceFiles(p) : e.endsWith('.ts') ? [p] : [];
    });

/** A key of the workflow sources and the installed packages: equal keys, equal bundles. */
export function workflowSourceKey(root = repoRoot): string {
  const hash = createHash('sha256');
  for (const file of [
    ...WORKFLOW_SOURCE_DIRS.flatMap((d) => sourceFiles(join(root, d))),
    join(root, 'package-lock.json'),
  ]) {
    hash
      .update(`${file.slice(root.length)}\0`)
      .update(readFileSync(file))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

const indexPath = (config: Pick<Config, 'LOGPIPE_DATA_DIR'>, key: string) =>
  join(workflowBundleDir(config), `workflows-src-${key}.name`);

/** The bundle already built from sources with this key, or undefined. */
export function cachedWorkflowBundle(
  config: Pick<Config, 'LOGPIPE_DATA_DIR'>,
  key = workflowSourceKey(),
): string | undefined {
  const index = indexPath(config, key);
  if (!existsSync(index)) return undefined;
  const path = join(workflowBundleDir(config), readFileSync(index, 'utf8').trim());
  return existsSync(path) ? path : undefined;
}

/**
 * The workflow bundle of the current sources: the one built before from the same sources, or one
 * built now in a child process (its memory is not the worker's). Returns its path.
 */
export async function prebuiltWorkflowBundle(config: Pick<Config, 'LOGPIPE_DATA_DIR'>): Promise<string> {
  const key = workflowSourceKey();
  const cached = cachedWorkflowBundle(config, key);
  if (cached) return cached;
  const child = await execa(
    process.execPath,
    [...TSX_IMPORT, join(repoRoot, 'lib/build-workflow-bundle.ts'), workflowBundleDir(config)],
    { stderr: 'inherit' },
  );
  const path = child.stdout.trim().split('\n').at(-1) ?? '';
  if (!path.endsWith('.js') || !existsSync(path))
    throw new Error(`the workflow bundler printed no bundle path (stdout: ${child.stdout.slice(0, 200)})`);
  // The index is written after the bundle (tmp + rename): a crash between the two only costs a rebuild.
  const index = indexPath(config, key);
  writeFileSync(`${index}.${process.pid}.tmp`, `${basename(path)}\n`);
  renameSync(`${index}.${process.pid}.tmp`, index);
  return path;
}
