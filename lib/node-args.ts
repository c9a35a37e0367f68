// Node flags for logpipe's long-running processes. The streaming worker's heap is capped so that
// V8 collects before the process grows past its memory budget (its buffers are bounded anyway).
import { join } from 'node:path';
import { repoRoot } from './config.ts';

export const WORKER_HEAP_MIB = 256;

/** node arguments to run `logpipe <args>` through tsx, as the ./logpipe script does. */
export function logpipeNodeArgs(args: string[]): string[] {
  // Only the streaming worker: the batch worker holds a whole HDFS file while it loads it.
  const heap =
    args[0] === 'worker' && args[1] === 'stream' ? [`--max-old-space-size=${WORKER_HEAP_MIB}`] : [];
  return [
    ...heap,
    '--import',
    `file://${join(repoRoot, 'node_modules/tsx/dist/loader.mjs')}`,
    join(repoRoot, 'cli/main.ts'),
    ...args,
  ];
}
