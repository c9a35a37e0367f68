// The pg pool, configured from the libpq variables.
import pg from 'pg';
import type { Config } from '../config.ts';
import { createLogger } from '../log.ts';

/**
 * Settings of every session logpipe opens (its pools, and dbt's through PGOPTIONS, lib/dbt.ts).
 * JIT off: the batch's statements read a run's new rows through indexes, but their cost estimates
 * grow with the tables, and past jit_above_cost PostgreSQL compiles each of them first, which takes
 * longer than the query.
 */
const SESSION_OPTIONS = '-c jit=off';

/**
 * The startup options of a session: the PGOPTIONS the user set (pg and libpq read it only when no
 * options are given, so it is kept here), then SESSION_OPTIONS, then `more`.
 */
export const sessionOptions = (more = ''): string =>
  [process.env.PGOPTIONS, SESSION_OPTIONS, more].filter(Boolean).join(' ');

export function createPgPool(
  config: Pick<Config, 'PGHOST' | 'PGPORT' | 'PGUSER' | 'PGPASSWORD' | 'PGDATABASE'>,
  max = 5,
  opts: { readOnly?: boolean } = {},
): pg.Pool {
  const pool = new pg.Pool({
    host: config.PGHOST,
    port: config.PGPORT,
    user: config.PGUSER,
    password: config.PGPASSWORD,
    database: config.PGDATABASE,
    max,
    connectionTimeoutMillis: 5000,
    // Read-only sessions (the dashboard): PostgreSQL itself refuses any write on them.
    options: sessionOptions(opts.readOnly ? '-c default_transaction_read_only=on' : ''),
  });
  // When the server restarts, every open connection emits 'error': an idle one through the pool,
  // a checked-out one (a load, the dbt lock) on itself, even while its query fails too. Unheard,
  // either would crash the process; heard, the query fails, the client leaves the pool, and the
  // caller (an activity) retries on a new connection.
  let log: ReturnType<typeof createLogger> | undefined;
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      log ??= createLogger('postgres');
      log.warn({ err: err.message }, 'PostgreSQL connection failed');
    });
  });
  pool.on('error', () => {}); // an idle connection's error: already logged by the listener above
  return pool;
}
