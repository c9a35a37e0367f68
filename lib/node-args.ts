// Node flags for logpipe's long-running processes. The workers run from their own bundles with
// plain node; the workers' heaps are capped so that V8 collects before the process grows past its
// memory budget (their buffers are bounded anyway). Every other command runs cli/main.ts
// through tsx.
import { join } from 'node:path';
import { repoRoot } from './config.ts';
import { TSX_IMPORT } from './tsx-import.ts';
import { type WorkerKind, workerBundle } from './worker-bundle.ts';

/**
 * The streaming worker's heap cap. Its message bytes sit outside the heap under one budget
 * (STREAM_BUFFER_MAX_BYTES), so what the heap holds is the in-flight chunks' parsed events and
 * garbage: bench stream (1 M events) peaked at a 189 MiB heap and 318 MiB RSS under a 256 MiB cap,
 * at 153 and 271 under this one; on 400 k events the CPU per event was the same (70.2 against 69.9
 * µs under 256 MiB).
 */
export const WORKER_HEAP_MIB = 192;
/**
 * The batch worker's heap cap. Compaction and load hold one row group or chunk per activity (and
 * an hour's event ids off the heap, in typed arrays); without a cap V8 let garbage grow the process
 * to ~800 MiB resident on a 2-million-event hour before collecting.
 */
export const BATCH_WORKER_HEAP_MIB = 320;

/** The worker `logpipe <args>` runs, if it is `worker stream` or `worker batch`. */
const workerOf = (args: string[]): WorkerKind | undefined =>
  args[0] === 'worker' && args.length === 2 && (args[1] === 'stream' || args[1] === 'batch')
    ? args[1]
    : undefined;

/**
 * Environment for `logpipe <args>`, as the ./logpipe script sets it. A worker's many
 * short-lived buffers (fetches, CQL frames, HDFS bodies) fragment glibc's heap: measured at idle,
 * 170 MB resident in the brk heap for a 62 MiB V8 heap. Two arenas and mmap for blocks of 128 KiB
 * and up give the memory back (bench stream: 304 -> 252 MiB RSS while draining, CPU unchanged).
 * A value already set in the environment wins.
 */
export function logpipeNodeEnv(args: string[]): Record<string, string> {
  if (!workerOf(args)) return {};
  return {
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
  };
}

/** node arguments to run `logpipe <args>`, as the ./logpipe script does. */
export function logpipeNodeArgs(args: string[]): string[] {
  const worker = workerOf(args);
  if (worker === 'stream') return [`--max-old-space-size=${WORKER_HEAP_MIB}`, workerBundle('stream')];
  if (worker === 'batch') return [`--max-old-space-size=${BATCH_WORKER_HEAP_MIB}`, workerBundle('batch')];
  return [...TSX_IMPORT, join(repoRoot, 'cli/main.ts'), ...args];
}
