// Bundles the streaming worker (workers/streaming-main.ts) into one ES module that plain node runs:
// no tsx loader and no CLI in the long-running process (about 54 MiB less resident at idle).
// Packages stay external. The bundle is written inside node_modules/ on purpose: node resolves
// the packages from there, and repoRoot (lib/config.ts: the parent of the module's folder) is
// the repository again. The name carries a hash of the content, so concurrent starts agree.
// Run directly (`node --import tsx lib/worker-bundle.ts`), it prints the bundle's path.
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { repoRoot } from './config.ts';

export function streamingWorkerBundle(): string {
  const out = buildSync({
    entryPoints: [join(repoRoot, 'workers/streaming-main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    outfile: 'streaming-worker.mjs',
    logLevel: 'silent',
  });
  const js = out.outputFiles[0];
  if (!js) throw new Error('esbuild produced no streaming worker bundle');
  const hash = createHash('sha256').update(js.contents).digest('hex').slice(0, 12);
  const path = join(repoRoot, 'node_modules', `.logpipe-streaming-worker-${hash}.mjs`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, js.contents);
    renameSync(tmp, path);
  }
  return path;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${streamingWorkerBundle()}\n`);
}
