// `logpipe dbt …`: dbt with the project's profile and project folder, from any directory; its
// target/ and logs/ go to the data directory.

import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../lib/config.ts';
import { dbtBin } from '../stack/dbt.ts';
import type { StackContext } from '../stack/types.ts';

export function dbtEnv(ctx: StackContext): Record<string, string> {
  const c = ctx.config;
  return {
    DBT_PROJECT_DIR: join(repoRoot, 'dbt'),
    DBT_PROFILES_DIR: c.DBT_PROFILES_DIR,
    DBT_TARGET_PATH: join(ctx.dataDir, 'dbt', 'target'),
    DBT_LOG_PATH: join(ctx.dataDir, 'dbt', 'logs'),
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    PGHOST: c.PGHOST,
    PGPORT: String(c.PGPORT),
    PGUSER: c.PGUSER,
    PGPASSWORD: c.PGPASSWORD,
    PGDATABASE: c.PGDATABASE,
  };
}

export async function runDbt(ctx: StackContext, args: string[]): Promise<number> {
  const res = await execa(dbtBin(ctx), args, { env: dbtEnv(ctx), stdio: 'inherit', reject: false });
  return res.exitCode ?? 1;
}
