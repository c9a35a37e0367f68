import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { loadConfig } from '../../lib/config.ts';

describe('Cassandra (real node, cassandra-driver)', () => {
  const client = createCassandra(loadConfig());
  const keyspace = `test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  after(async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
    await client.shutdown();
  });

  it('creates a keyspace and round-trips a row', async () => {
    await client.connect();
    await client.execute(
      `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(`CREATE TABLE ${keyspace}.t (id uuid PRIMARY KEY, body text, at timestamp)`);
    const id = randomUUID();
    const at = new Date('2026-01-02T03:04:05.678Z');
    await client.execute(`INSERT INTO ${keyspace}.t (id, body, at) VALUES (?, ?, ?)`, [id, 'héllo', at], {
      prepare: true,
    });
    const rs = await client.execute(`SELECT id, body, at FROM ${keyspace}.t WHERE id = ?`, [id], {
      prepare: true,
    });
    assert.equal(rs.rows.length, 1);
    assert.equal(String(rs.rows[0]?.id), id);
    assert.equal(rs.rows[0]?.body, 'héllo');
    assert.equal((rs.rows[0]?.at as Date | undefined)?.toISOString(), at.toISOString());
  });

  it('reports version 5.0 and the local data center', async () => {
    const rs = await client.execute('SELECT release_version, data_center FROM system.local');
    assert.match(String(rs.rows[0]?.release_version), /^5\.0\./);
    assert.equal(rs.rows[0]?.data_center, loadConfig().CASSANDRA_LOCAL_DC);
  });
});
