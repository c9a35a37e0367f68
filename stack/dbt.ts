// dbt: dbt-core and dbt-postgres from PyPI, pinned, in a virtual environment in the cache.
// It is a tool, not a server: nothing to start, only to install.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DBT_CORE_VERSION, DBT_POSTGRES_VERSION, DBT_RECIPE, dbtExecutable, dbtHome } from '../lib/dbt.ts';
import { isProvisioned, markProvisioned, runLogged } from './provision.ts';
import { writeRecipe } from './recipe.ts';
import type { StackComponent, StackContext } from './types.ts';

const home = (ctx: StackContext) => dbtHome(ctx.cacheDir);
export const dbtBin = (ctx: StackContext) => dbtExecutable(ctx.cacheDir);

export const dbt: StackComponent = {
  name: 'dbt',
  version: DBT_CORE_VERSION,
  async provision(ctx) {
    if (isProvisioned(home(ctx)) && existsSync(dbtBin(ctx))) return;
    const log = `${home(ctx)}-provision.log`;
    await ctx.progress.step(
      'dbt',
      `installing dbt-core ${DBT_CORE_VERSION} and dbt-postgres ${DBT_POSTGRES_VERSION} from PyPI`,
      log,
      async () => {
        await runLogged('python3', ['-m', 'venv', '--clear', home(ctx)], log);
        await runLogged(
          join(home(ctx), 'bin', 'pip'),
          ['install', '--disable-pip-version-check', '-q', ...DBT_RECIPE.pip],
          log,
        );
      },
    );
    writeRecipe(home(ctx), DBT_RECIPE);
    markProvisioned(home(ctx));
  },
  tools: (ctx) => ({ dbt: dbtBin(ctx) }),
  services: [],
};
