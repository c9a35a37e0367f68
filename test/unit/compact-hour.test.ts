// Compaction of an hour when an attempt is cut short by a DataNode stop: the file it was writing is
// left open under a dead client's lease (LeasingHdfs refuses to write it again, as HDFS does until
// the lease is recovered). The retried attempt must write under a name of its own, leave no
// temporary file behind, and give each event once. The compaction record is in a real PostgreSQL
// (a throwaway one); the real HDFS side is in test/integration/compaction.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { compactHour, compactionDdl } from '../../activities/compact-hour.ts';
import { fileLines } from '../../activities/data-file-lines.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { LeasingHdfs } from '../helpers/memory-hdfs.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.ts';

const RAW = '/raw/LogEvents/dt=2026-07-01/hour=10';
const OUT = '/compacted/LogEvents/dt=2026-07-01/hour=10';
const line = (id: string, type = 'search') => JSON.stringify({ event_id: id, event_type: type });

describe('compaction of an hour after an attempt cut short', () => {
  let server: ThrowawayPostgres;
  let pool: pg.Pool;

  before(async () => {
    server = await startThrowawayPostgres();
    pool = createPgPool(server.config);
    await pool.query('CREATE SCHEMA raw');
    await pool.query(compactionDdl('raw'));
  });

  after(async () => {
    await pool?.end();
    await server?.stop();
  });

  it('writes under a name of its own, removes the open one, keeps each event once', async () => {
    const hdfs = new LeasingHdfs();
    const a = `${RAW}/LogEvents+0+0+2.ndjson`;
    const b = `${RAW}/LogEvents+1+0+1.ndjson`;
    await hdfs.writeFile(a, `${line('e1')}\n${line('e2')}\n${line('e3', 'purchase')}\n`);
    await hdfs.writeFile(b, `${line('e2')}\n${line('e4')}\n`); // e2 again: a replay
    const target = { dt: '2026-07-01', hour: 10, inputs: [a, b] };

    hdfs.cutNextWrite(/\/_tmp-/);
    await assert.rejects(compactHour(hdfs, pool, 'raw', OUT, target), /socket hang up/);
    assert.equal(hdfs.leased.size, 1, 'the first attempt left its file open');

    const done = await compactHour(hdfs, pool, 'raw', OUT, target);
    assert.equal(done.events, 4);
    assert.equal(done.resumed, false);
    const names = [...hdfs.files.keys()].filter((p) => p.startsWith(`${OUT}/`));
    assert.deepEqual(names, [done.output], 'the compacted file only: no temporary file is left');
    const ids: string[] = [];
    for await (const chunk of fileLines(hdfs, done.output))
      for (const l of chunk) ids.push((JSON.parse(l) as { event_id: string }).event_id);
    assert.deepEqual(ids, ['e1', 'e2', 'e3', 'e4']);
    assert.equal(await hdfs.stat(a), undefined, 'inputs removed once the output is recorded');
    assert.equal(await hdfs.stat(b), undefined);
    const rec = await pool.query<{ events: number; inputs_removed: boolean }>(
      'SELECT events, inputs_removed FROM raw.compactions WHERE output = $1',
      [done.output],
    );
    assert.deepEqual(rec.rows, [{ events: 4, inputs_removed: true }]);
  });
});
