// A PostgreSQL server of its own for a unit test file: the stack's server definition (Debian's
// package, run as an unprivileged user when the tests run as root) with its cluster in a temporary
// data dir and a free loopback port, removed when the file ends. The stack's own server is not
// needed, nor touched.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '../../lib/config.ts';
import { freePort } from '../../stack/net.ts';
import { postgresService } from '../../stack/postgres.ts';
import { runningPid } from '../../stack/process.ts';
import { pidFile, stackContext, startService, stopService } from '../../stack/stack.ts';

export interface ThrowawayPostgres {
  /** logpipe's configuration pointed at this server (and at the usual cache, for dbt). */
  config: Config;
  stop(): Promise<void>;
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const dataDir = mkdtempSync(join(tmpdir(), 'logpipe-pg-'));
  // The server's user must reach its cluster folder when the tests run as root.
  chmodSync(dataDir, 0o755);
  const port = await freePort();
  const config = loadConfig({
    ...process.env,
    LOGPIPE_DATA_DIR: dataDir,
    PGHOST: '127.0.0.1',
    PGPORT: String(port),
  });
  const silent = {
    step: <T>(_c: string, _w: string, _l: string, fn: () => Promise<T>) => fn(),
    info: () => {},
  };
  const ctx = stackContext(config, silent);
  const svc = postgresService(port);
  try {
    await startService(ctx, svc);
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  // The server runs detached (as the stack's does): a test process that ends without its after()
  // hook must not leave it running.
  const pid = runningPid(pidFile(ctx, svc.name));
  const reap = () => {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', reap);
  return {
    config,
    async stop() {
      process.removeListener('exit', reap);
      await stopService(ctx, svc);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
