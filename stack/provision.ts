// Provisioning helpers: run an install step with its output in a log file, mark a cache entry
// complete only after every step succeeded, and show progress to the person waiting.
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { errorField, errorMessage } from '../lib/errors.ts';
import type { Progress } from './types.ts';

export class ProvisionError extends Error {
  constructor(
    public readonly component: string,
    public readonly stepName: string,
    public readonly logFile: string,
    cause: unknown,
  ) {
    super(`provisioning ${component} failed at step "${stepName}": ${firstLines(cause)}\n  log: ${logFile}`);
    this.name = 'ProvisionError';
  }
}

// A classpath check lists its problems one a line; a failed command's first line says enough.
function firstLines(cause: unknown): string {
  const message = errorMessage(cause);
  return errorField(cause, 'name') === 'ClasspathError' ? message : (message.split('\n')[0] ?? message);
}

/** Runs a command, appending its output to logFile; throws with the command line on failure. */
export async function runLogged(
  command: string,
  args: string[],
  logFile: string,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<void> {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`\n$ ${command} ${args.join(' ')}\n`);
  try {
    const child = execa(command, args, { cwd: options.cwd, env: options.env, all: true, stdin: 'ignore' });
    child.all?.pipe(log, { end: false });
    await child;
  } catch (err) {
    throw new Error(
      `${command} ${args.join(' ')} exited with an error (${errorMessage(err).split('\n')[0]})`,
    );
  } finally {
    await new Promise((r) => log.end(r));
  }
}

/** The cache entry is complete when its marker exists: a half-finished install is redone. */
export function isProvisioned(dir: string): boolean {
  return existsSync(join(dir, '.complete'));
}

export function markProvisioned(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.complete'), `${new Date().toISOString()}\n`);
}

/** Progress on a terminal or in a CI log: one line when a step starts, one when it ends. */
export function consoleProgress(out: NodeJS.WritableStream = process.stderr): Progress {
  return {
    async step(component, what, logFile, fn) {
      const started = Date.now();
      out.write(`[${component}] ${what} ...\n`);
      const ticker = setInterval(() => {
        out.write(`[${component}] ${what}: still working (${Math.round((Date.now() - started) / 1000)} s)\n`);
      }, 30_000);
      try {
        const result = await fn();
        out.write(`[${component}] ${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        return result;
      } catch (err) {
        if (err instanceof ProvisionError) throw err;
        throw new ProvisionError(component, what, logFile, err);
      } finally {
        clearInterval(ticker);
      }
    },
    info(component, message) {
      out.write(`[${component}] ${message}\n`);
    },
  };
}
