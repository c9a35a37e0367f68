// Node flags for logpipe's long-running processes. The streaming worker runs from its own bundle
// with plain node, its heap capped so that V8 collects before the process grows past its memory
// budget (its buffers are bounded anyway); every other command runs cli/main.ts through tsx.
import { join } from 'node:path';
import { repoRoot } from './config.ts';
import { streamingWorkerBundle } from './worker-bundle.ts';

export const WORKER_HEAP_MIB = 256;

/** node arguments to run `logpipe <args>`, as the ./logpipe script does. */
export function logpipeNodeArgs(args: string[]): string[] {
  if (args[0] === 'worker' && args[1] === 'stream' && args.length === 2)
    return [`--max-old-space-size=${WORKER_HEAP_MIB}`, streamingWorkerBundle()];
  return [
    '--import',
    `file://${join(repoRoot, 'node_modules/tsx/dist/loader.mjs')}`,
    join(repoRoot, 'cli/main.ts'),
    ...args,
  ];
}
