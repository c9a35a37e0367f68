// Runs the real ./logpipe command, as a user would.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../lib/config.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function logpipe(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 600_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      join(repoRoot, 'logpipe'),
      args,
      { env, timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
