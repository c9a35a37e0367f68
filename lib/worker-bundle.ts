// Bundles a worker's own entry point (workers/<kind>-main.ts) into one ES module that plain node
// runs: no tsx loader and no CLI in the long-running process (the streaming worker: about 54 MiB
// less resident at idle). Packages stay external. The bundle is written inside node_modules/ on
// purpose: node resolves the packages from there, and repoRoot (lib/config.ts: the parent of the
// module's folder) is the repository again. The name carries a hash of the content, so concurrent
// starts agree. Run directly (`node --import tsx lib/worker-bundle.ts [stream|batch|all]`), it
// writes the bundle(s) and prints the path(s).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { repoRoot } from './config.ts';
import { writeNamedByContent } from './content-file.ts';

export type WorkerKind = 'stream' | 'batch';

const ENTRY: Record<WorkerKind, string> = {
  stream: 'workers/streaming-main.ts',
  batch: 'workers/batch-main.ts',
};
const NAME: Record<WorkerKind, string> = { stream: 'streaming-worker', batch: 'batch-worker' };

export function workerBundle(kind: WorkerKind): string {
  const out = buildSync({
    entryPoints: [join(repoRoot, ENTRY[kind])],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    outfile: `${NAME[kind]}.mjs`,
    logLevel: 'silent',
  });
  const js = out.outputFiles[0];
  if (!js) throw new Error(`esbuild produced no ${NAME[kind]} bundle`);
  return writeNamedByContent(join(repoRoot, 'node_modules'), `.logpipe-${NAME[kind]}-`, '.mjs', js.contents);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const which = process.argv[2] ?? 'stream';
  const kinds: WorkerKind[] = which === 'all' ? ['stream', 'batch'] : [which as WorkerKind];
  for (const kind of kinds) {
    if (!(kind in ENTRY)) throw new Error(`unknown worker bundle "${kind}" (stream, batch or all)`);
    process.stdout.write(`${workerBundle(kind)}\n`);
  }
}
