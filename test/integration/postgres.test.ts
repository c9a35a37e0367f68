import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { loadConfig } from '../../lib/config.ts';

describe('PostgreSQL (real server, pg)', () => {
  const config = loadConfig();
  const pool = createPgPool(config);
  after(() => pool.end());

  it('round-trips a row in the configured database', async () => {
    const client = await pool.connect();
    try {
      await client.query('CREATE TEMP TABLE t (id int PRIMARY KEY, body jsonb)');
      await client.query('INSERT INTO t VALUES ($1, $2)', [1, { a: [1, 2] }]);
      const rs = await client.query<{ id: number; body: unknown; db: string }>(
        'SELECT id, body, current_database() AS db FROM t',
      );
      assert.deepEqual(rs.rows, [{ id: 1, body: { a: [1, 2] }, db: config.PGDATABASE }]);
    } finally {
      client.release();
    }
  });

  it('listens on loopback only and psql works with the libpq variables', async () => {
    const rs = await pool.query<{ listen: string }>("SELECT current_setting('listen_addresses') AS listen");
    assert.equal(rs.rows[0]?.listen, '127.0.0.1');
    const env = {
      ...process.env,
      PGHOST: config.PGHOST,
      PGPORT: String(config.PGPORT),
      PGUSER: config.PGUSER,
      PGPASSWORD: config.PGPASSWORD,
      PGDATABASE: config.PGDATABASE,
    };
    const out = await new Promise<string>((resolve, reject) =>
      execFile('psql', ['-Atc', 'SELECT 40 + 2'], { env }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    assert.equal(out.trim(), '42');
  });
});
