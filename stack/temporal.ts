// Temporal: the Temporal CLI's development server, built with `go install`, with its database in
// a file under the data directory so workflows and schedules survive a restart. tctl is installed
// beside it for users who drive schedules with it.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { isProvisioned, markProvisioned, runLogged } from './provision.ts';
import type { StackComponent, StackContext } from './types.ts';

// Later CLI versions carry a replace directive that `go install` refuses.
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TCTL_VERSION = '1.18.4';
const PORT = 7233;
const UI_PORT = 8233;
const METRICS_PORT = 7235;

const cliHome = (ctx: StackContext) => join(ctx.cacheDir, `temporal-cli-${TEMPORAL_CLI_VERSION}`);
const tctlHome = (ctx: StackContext) => join(ctx.cacheDir, `tctl-${TCTL_VERSION}`);
export const temporalBin = (ctx: StackContext) => join(cliHome(ctx), 'bin', 'temporal');
const dir = (ctx: StackContext) => join(ctx.dataDir, 'temporal');

function goInstall(pkg: string, home: string, log: string): Promise<void> {
  return runLogged('go', ['install', pkg], log, {
    env: { GOBIN: join(home, 'bin'), GOFLAGS: '-trimpath', GOTOOLCHAIN: 'local' },
  });
}

export const temporal: StackComponent = {
  name: 'temporal',
  version: TEMPORAL_CLI_VERSION,
  async provision(ctx) {
    if (!isProvisioned(cliHome(ctx))) {
      const log = join(cliHome(ctx), 'provision.log');
      mkdirSync(cliHome(ctx), { recursive: true });
      await ctx.progress.step(
        'temporal',
        `building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (several minutes)`,
        log,
        () => goInstall(`github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`, cliHome(ctx), log),
      );
      markProvisioned(cliHome(ctx));
    }
    // tctl is a convenience for users; the Go module proxy may refuse it, which must not stop the stack.
    if (!isProvisioned(tctlHome(ctx)) && !existsSync(join(tctlHome(ctx), '.unavailable'))) {
      const log = join(tctlHome(ctx), 'provision.log');
      mkdirSync(tctlHome(ctx), { recursive: true });
      try {
        await ctx.progress.step('temporal', `installing tctl ${TCTL_VERSION} with go install`, log, () =>
          goInstall(`github.com/temporalio/tctl/cmd/tctl@v${TCTL_VERSION}`, tctlHome(ctx), log),
        );
        markProvisioned(tctlHome(ctx));
      } catch (err) {
        ctx.progress.info(
          'temporal',
          `tctl is not available (${(err as Error).message.split('\n')[0]}); use \`temporal schedule …\` instead. Log: ${log}`,
        );
        writeFileSync(join(tctlHome(ctx), '.unavailable'), `${new Date().toISOString()}\n`);
      }
    }
  },
  tools: (ctx) => ({
    temporal: temporalBin(ctx),
    ...(isProvisioned(tctlHome(ctx)) ? { tctl: join(tctlHome(ctx), 'bin', 'tctl') } : {}),
  }),
  services: [
    {
      name: 'temporal',
      port: PORT,
      url: `http://127.0.0.1:${UI_PORT}`,
      processMarker: 'start-dev',
      stopTimeoutMs: 20_000,
      startTimeoutMs: 60_000,
      async prepare(ctx) {
        mkdirSync(dir(ctx), { recursive: true });
        return {
          command: temporalBin(ctx),
          args: [
            'server',
            'start-dev',
            '--ip',
            '127.0.0.1',
            '--port',
            String(PORT),
            '--ui-ip',
            '127.0.0.1',
            '--ui-port',
            String(UI_PORT),
            '--metrics-port',
            String(METRICS_PORT),
            '--db-filename',
            join(dir(ctx), 'temporal.db'),
            // The dev server always has `default`; any other configured namespace is registered.
            ...(ctx.config.TEMPORAL_NAMESPACE === 'default'
              ? []
              : ['--namespace', ctx.config.TEMPORAL_NAMESPACE]),
            '--log-level',
            'warn',
          ],
          cwd: dir(ctx),
        };
      },
      async ready() {
        let connection: Connection | undefined;
        try {
          connection = await Connection.connect({ address: `127.0.0.1:${PORT}`, connectTimeout: 2000 });
          const res = await connection.healthService.check({});
          return res.status === 1; // SERVING
        } catch {
          return false;
        } finally {
          await connection?.close().catch(() => {});
        }
      },
    },
  ],
};
