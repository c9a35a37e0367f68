// The pg pool, configured from the libpq variables.
import pg from 'pg';
import type { Config } from '../config.ts';

export function createPgPool(
  config: Pick<Config, 'PGHOST' | 'PGPORT' | 'PGUSER' | 'PGPASSWORD' | 'PGDATABASE'>,
  max = 5,
): pg.Pool {
  return new pg.Pool({
    host: config.PGHOST,
    port: config.PGPORT,
    user: config.PGUSER,
    password: config.PGPASSWORD,
    database: config.PGDATABASE,
    max,
    connectionTimeoutMillis: 5000,
  });
}
