// PostgreSQL from Debian's postgresql package. The server refuses to run as root, so when the
// stack runs as root it runs PostgreSQL as a system user `logpipe` that owns only its data folder.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { runLogged } from './provision.ts';
import type { ServiceDef, StackComponent, StackContext } from './types.ts';

const PORT = 5432;
const OS_USER = 'logpipe';

/** The newest installed server's bin folder, e.g. /usr/lib/postgresql/15/bin. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

const isRoot = () => process.getuid?.() === 0;

function osUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  try {
    execFileSync('id', ['-u', OS_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OS_USER], {
      stdio: 'ignore',
    });
  }
  const uid = Number(execFileSync('id', ['-u', OS_USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', OS_USER]).toString().trim());
  return { uid, gid };
}

function traversableByOthers(path: string): boolean {
  for (let p = path; ; p = dirname(p)) {
    try {
      const mode = lstatSync(p).mode;
      if ((mode & 0o001) === 0) return false;
    } catch {
      /* not created yet: created by us with 0755 */
    }
    if (dirname(p) === p) return true;
  }
}

/**
 * The cluster folder. It lives under the data directory, except when that is not reachable by the
 * unprivileged server user (a checkout inside /root, say): then it lives under /var/lib/logpipe and
 * the data directory holds a link to it.
 */
function clusterDir(ctx: StackContext): string {
  const inData = join(ctx.dataDir, 'postgres', 'data');
  if (!isRoot() || traversableByOthers(dirname(inData))) return inData;
  const hash = createHash('sha256').update(ctx.dataDir).digest('hex').slice(0, 12);
  const outside = `/var/lib/logpipe/postgres-${hash}`;
  mkdirSync(join(ctx.dataDir, 'postgres'), { recursive: true });
  try {
    lstatSync(inData);
  } catch {
    symlinkSync(outside, inData);
  }
  return outside;
}

async function query<T extends pg.QueryResultRow>(
  ctx: StackContext,
  port: number,
  database: string,
  sql: string,
  values: unknown[] = [],
) {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: ctx.config.PGUSER,
    password: ctx.config.PGPASSWORD,
    database,
    connectionTimeoutMillis: 2000,
  });
  await client.connect();
  try {
    return await client.query<T>(sql, values);
  } finally {
    await client.end();
  }
}

/**
 * The server on a loopback port, its cluster under the context's data dir. The stack's runs on
 * 5432; the unit tests start a throwaway one on a free port (test/helpers/throwaway-postgres.ts).
 */
export function postgresService(port: number): ServiceDef {
  return {
    name: 'postgres',
    port,
    processMarker: 'postgres',
    // SIGINT is the "fast" shutdown: SIGTERM would wait for every client to leave.
    stopSignal: 'SIGINT',
    stopTimeoutMs: 30_000,
    startTimeoutMs: 60_000,
    async prepare(ctx) {
      const bin = postgresBinDir();
      if (!bin) throw new Error('PostgreSQL is not installed (run ./logpipe stack up to provision it)');
      const data = clusterDir(ctx);
      const user = osUser();
      mkdirSync(dirname(data), { recursive: true });
      mkdirSync(data, { recursive: true, mode: 0o700 });
      if (user) chownSync(data, user.uid, user.gid);
      if (!existsSync(join(data, 'PG_VERSION'))) {
        // The superuser is the configured role, with the configured password.
        const pwfile = join(data, '..', `.pwfile-${process.pid}`);
        writeFileSync(pwfile, `${ctx.config.PGPASSWORD}\n`, { mode: 0o600 });
        if (user) chownSync(pwfile, user.uid, user.gid);
        try {
          const args = [
            '-D',
            data,
            '-U',
            ctx.config.PGUSER,
            `--pwfile=${pwfile}`,
            '--auth-host=scram-sha-256',
            '--auth-local=peer',
            '-E',
            'UTF8',
            '--locale=C.UTF-8',
          ];
          const log = join(ctx.dataDir, 'postgres', 'initdb.log');
          if (user) await runLogged('runuser', ['-u', OS_USER, '--', join(bin, 'initdb'), ...args], log);
          else await runLogged(join(bin, 'initdb'), args, log);
        } finally {
          rmSync(pwfile, { force: true });
        }
      }
      return {
        command: join(bin, 'postgres'),
        args: [
          '-D',
          data,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          `port=${port}`,
          '-c',
          'unix_socket_directories=',
          '-c',
          'shared_buffers=256MB',
          '-c',
          'max_connections=100',
          '-c',
          'max_wal_size=2GB',
          '-c',
          'logging_collector=off',
          // dbt writes snapshot times as timestamps without zone in the session's zone: UTC.
          '-c',
          'timezone=UTC',
        ],
        cwd: data,
        uid: user?.uid,
        gid: user?.gid,
      };
    },
    async ready(ctx) {
      try {
        await query(ctx, port, 'postgres', 'SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async afterStart(ctx) {
      const db = ctx.config.PGDATABASE;
      const exists = await query(ctx, port, 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (exists.rowCount === 0)
        await query(ctx, port, 'postgres', `CREATE DATABASE "${db.replaceAll('"', '""')}"`);
    },
  };
}

export const postgres: StackComponent = {
  name: 'postgres',
  version: 'debian',
  async provision(ctx) {
    if (postgresBinDir()) return;
    const log = join(ctx.cacheDir, 'postgres-provision.log');
    if (!isRoot()) {
      throw new Error(
        'PostgreSQL is not installed: run `sudo apt-get install -y postgresql` (Debian) and try again',
      );
    }
    await ctx.progress.step('postgres', "installing Debian's postgresql package", log, async () => {
      await runLogged('apt-get', ['update'], log);
      await runLogged('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], log, {
        env: { DEBIAN_FRONTEND: 'noninteractive' },
      });
    });
    if (!postgresBinDir())
      throw new Error('postgresql installed, but no server binary under /usr/lib/postgresql');
  },
  tools: () => ({}),
  services: [postgresService(PORT)],
};
