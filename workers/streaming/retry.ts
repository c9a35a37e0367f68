// The one retry loop of the streaming worker: capped exponential backoff, the consumer group's
// heartbeat kept during the wait, and an end when the worker shuts down (or after a number of
// attempts, for start-up steps). Like kafkajs's own retrier, but a sink write is retried forever.

/** The worker is stopping while a step still fails: the step is given up, not retried. */
export class ShutdownError extends Error {}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Backoff {
  /** The wait after the first failure, doubled after each further one... */
  initialMs: number;
  /** ...up to this. */
  maxMs: number;
}

/** The wait after failure number `attempt` (0 for the first). */
export function backoffMs(attempt: number, { initialMs, maxMs }: Backoff): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}

/**
 * Waits `ms`, heartbeating every second: a batch's handler that waits longer than the session
 * timeout without a heartbeat would be thrown out of the group.
 */
export async function pause(ms: number, heartbeat?: () => Promise<void>): Promise<void> {
  for (let waited = 0; waited < ms; waited += 1000) {
    await sleep(Math.min(1000, ms - waited));
    await heartbeat?.().catch(() => {}); // the batch may be over; the fetch loop heartbeats then
  }
}

export interface RetryOptions extends Backoff {
  /** Checked after each failure: true ends the retrying with a ShutdownError. */
  stopping?: () => boolean;
  heartbeat?: () => Promise<void>;
  /** An error that retrying cannot cure: thrown at once. A ShutdownError always is. */
  isFinal?: (err: unknown) => boolean;
  /** After this many failed attempts the last error is thrown (default: no limit). */
  attempts?: number;
  /** Told of each failure that is retried (`attempt` counts from 1), before the wait. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it succeeds, waiting with backoff between failed attempts. */
export async function retry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ShutdownError || opts.isFinal?.(err)) throw err;
      if (opts.attempts !== undefined && attempt + 1 >= opts.attempts) throw err;
      if (opts.stopping?.()) throw new ShutdownError(`stopping while ${what} is failing`);
      const delay = backoffMs(attempt, opts);
      opts.onRetry?.(err, attempt + 1, delay);
      await pause(delay, opts.heartbeat);
    }
  }
}
