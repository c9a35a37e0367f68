// The real-time store without tombstones: a bound null is a deletion marker in Cassandra, so the
// sink leaves the columns that do not apply to an event's type unset. A full hour partition is
// read with tracing on, and Cassandra's own trace says how many tombstone cells it scanned: none.
// The values read back are the same (an unset column reads as null).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { batchFramesWritten } from '../../lib/clients/cassandra-batch-frame.ts';
import { tracedRead } from '../../lib/clients/cassandra-trace.ts';
import { loadConfig } from '../../lib/config.ts';
import { flattenEvent } from '../../lib/events/flatten.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { migrate } from '../../workers/streaming/cassandra-schema.ts';
import { CassandraSink } from '../../workers/streaming/cassandra-sink.ts';

describe('Cassandra rows without null cells (real node)', () => {
  const config = loadConfig();
  const client = createCassandra(config);
  const keyspace = `test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  after(async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
    await client.shutdown();
  });

  it('a full hour of every event type reads back with 0 tombstone cells, values unchanged', async () => {
    await migrate(client, keyspace);
    const start = new Date('2026-11-30T10:00:00Z');
    const events = [...new EventGenerator({ seed: keyspace, start, rate: 2 }).take(3000)].filter((e) =>
      e.timestamp.startsWith('2026-11-30T10'),
    );
    assert.equal(new Set(events.map((e) => e.event_type)).size, 5, 'all five types');
    const flats = events.map(flattenEvent);
    const framesBefore = batchFramesWritten();
    assert.deepEqual(await new CassandraSink(client, keyspace, 32).write(flats), []);
    assert.ok(batchFramesWritten() > framesBefore, 'the sink’s batches went out as logpipe’s frames');

    const read = await tracedRead(client, `SELECT * FROM ${keyspace}.ecomm_log WHERE day = ? AND hour = ?`, [
      '2026-11-30',
      10,
    ]);
    const rs = read.result;
    assert.equal(rs.rowLength, flats.length);
    assert.ok(
      read.activities.some((a) => a.includes('live rows')),
      `a read in the trace: ${read.activities.join(' | ')}`,
    );
    assert.equal(read.live, flats.length, 'every row live');
    assert.equal(read.tombstones, 0, 'no tombstone cell');

    // A user's rows are written in batches grouped by the node that owns them: every one is there,
    // and a user's partition has no tombstone either.
    const users = [...new Set(flats.map((f) => f.user_id))];
    let userRows = 0;
    for (const u of users) {
      const r = await client.execute(
        `SELECT count(*) AS n FROM ${keyspace}.events_by_user WHERE user_id = ?`,
        [u],
        {
          prepare: true,
        },
      );
      userRows += Number(r.first()?.n);
    }
    assert.equal(userRows, flats.length, 'every event in events_by_user');
    const busiest = users.sort(
      (a, b) => flats.filter((f) => f.user_id === b).length - flats.filter((f) => f.user_id === a).length,
    )[0];
    const userRead = await tracedRead(client, `SELECT * FROM ${keyspace}.events_by_user WHERE user_id = ?`, [
      busiest,
    ]);
    assert.equal(userRead.tombstones, 0, 'no tombstone cell in a user partition');
    assert.equal(userRead.live, flats.filter((f) => f.user_id === busiest).length);

    // What the dashboard reads is what was flattened: an unset column reads as null.
    const byId = new Map(rs.rows.map((r) => [r.event_id as string, r]));
    for (const type of ['search', 'purchase', 'order_complete', 'order_failed', 'error']) {
      const f = flats.find((x) => x.event_type === type);
      assert.ok(f);
      const row = byId.get(f.event_id);
      assert.ok(row);
      for (const [k, v] of Object.entries(f)) {
        if (k === 'day' || k === 'hour' || k === 'timestamp') continue;
        assert.deepEqual(row[k] ?? null, v ?? null, `${type}.${k}`);
      }
    }
  });
});
