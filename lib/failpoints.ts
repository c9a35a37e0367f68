// Test aids that fault tests switch on with LOGPIPE_FAILPOINT_* variables (lib/config.ts); nothing
// here is active unless such a variable is set, and production never sets one.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * An activity interceptor: the first attempt of every activity waits `pauseMs` before the
 * activity runs, heartbeating meanwhile (so the pause itself never times out), and gives up at
 * once when the activity is cancelled. Retries run at once: a test that kills the worker during
 * the pause sees the retry go through untouched. Short activities finish in a fraction of a
 * second; the pause is what lets a test find one STARTED and kill the worker inside it.
 */
export function activityPause(pauseMs: number): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.attempt === 1 && pauseMs > 0) {
          const until = Date.now() + pauseMs;
          for (let left = pauseMs; left > 0; left = until - Date.now()) {
            ctx.heartbeat();
            await ctx.sleep(Math.min(500, left));
          }
        }
        return next(input);
      },
    },
  });
}
