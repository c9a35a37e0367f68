// `logpipe dbt …`: dbt with the project's profile and project folder, from any directory; its
// target/ and logs/ go to the data directory.

import { join } from 'node:path';
import { execa } from 'execa';
import { dbtEnv } from '../lib/dbt.ts';
import { dbtBin } from '../stack/dbt.ts';
import type { StackContext } from '../stack/types.ts';

export const dbtCliEnv = (ctx: StackContext) =>
  dbtEnv(ctx.config, {
    targetPath: join(ctx.dataDir, 'dbt', 'target'),
    logPath: join(ctx.dataDir, 'dbt', 'logs'),
  });

export async function runDbt(ctx: StackContext, args: string[]): Promise<number> {
  const res = await execa(dbtBin(ctx), args, { env: dbtCliEnv(ctx), stdio: 'inherit', reject: false });
  return res.exitCode ?? 1;
}
