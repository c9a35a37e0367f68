// The raw schema every batch run applies, on the real PostgreSQL: on a schema that is already
// there it must not wait for autovacuum (SHARE UPDATE EXCLUSIVE on each table, held here by a
// transaction of the test) nor make the tables' readers queue; what is missing is still created.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { schemaDdl, TABLE_OF } from '../../activities/warehouse-schema.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { loadConfig } from '../../lib/config.ts';

describe('warehouse raw schema, applied again on an existing warehouse', () => {
  const pool = createPgPool(loadConfig());
  const raw = `t_schema_${randomUUID().slice(0, 8)}`;
  const tables = [...Object.values(TABLE_OF), 'load_manifest'];

  /** Applies the schema on one connection that gives up on any lock after `ms`. */
  async function apply(ms: number): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query(`SET lock_timeout = '${ms}ms'`);
      for (const ddl of schemaDdl(raw)) await client.query(ddl);
    } finally {
      client.release();
    }
  }

  const indexes = async () =>
    (
      await pool.query<{ name: string }>('SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1', [
        raw,
      ])
    ).rows
      .map((r) => r.name)
      .sort();

  const loadedAtDefault = async (table: string) =>
    (
      await pool.query<{ def: string | null }>(
        `SELECT pg_get_expr(d.adbin, d.adrelid) AS def FROM pg_attribute a
         LEFT JOIN pg_attrdef d ON (d.adrelid, d.adnum) = (a.attrelid, a.attnum)
         WHERE a.attrelid = $1::regclass AND a.attname = '_loaded_at'`,
        [`${raw}.${table}`],
      )
    ).rows[0]?.def;

  before(() => apply(10_000));
  after(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${raw} CASCADE`);
    await pool.end();
  });

  it('creates the indexes and the insert-time default', async () => {
    const names = await indexes();
    for (const t of Object.values(TABLE_OF)) {
      assert.ok(names.includes(`${t}_loaded_at`), `${t}_loaded_at`);
      assert.ok(names.includes(`${t}_timestamp`), `${t}_timestamp`);
      assert.equal(await loadedAtDefault(t), 'clock_timestamp()');
    }
    assert.ok(names.includes('load_manifest_hour'));
  });

  it('takes no lock that waits for a vacuum of the tables when everything is there', async () => {
    const before = await indexes();
    const vacuum = await pool.connect();
    try {
      await vacuum.query('BEGIN');
      // The lock autovacuum and ANALYZE hold on a table while they work.
      await vacuum.query(
        `LOCK TABLE ${tables.map((t) => `${raw}.${t}`).join(', ')} IN SHARE UPDATE EXCLUSIVE MODE`,
      );
      await apply(1000);
      await vacuum.query('COMMIT');
    } finally {
      vacuum.release();
    }
    assert.deepEqual(await indexes(), before);
  });

  it('still adds an index or a default that is missing', async () => {
    const table = Object.values(TABLE_OF)[0] as string;
    await pool.query(`DROP INDEX ${raw}.${table}_timestamp`);
    await pool.query(`ALTER TABLE ${raw}.${table} ALTER COLUMN _loaded_at SET DEFAULT now()`);
    assert.equal(await loadedAtDefault(table), 'now()');
    await apply(10_000);
    assert.ok((await indexes()).includes(`${table}_timestamp`));
    assert.equal(await loadedAtDefault(table), 'clock_timestamp()');
  });
});
