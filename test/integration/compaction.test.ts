// Compaction of one hour on the real HDFS and PostgreSQL, with the activity stopped after each of
// its HDFS removals (as a kill -9 would stop it there): the next attempt leaves one compacted file
// holding every event once, no raw file, and every record finished. The kill -9 of a whole worker
// process is in batch-faults.test.ts; this file reaches the instants a process kill rarely hits.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { compactHour, compactionDdl, finishPendingCompactions } from '../../activities/compact-hour.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { hourFolder, isDataFileName } from '../../lib/hdfs-layout.ts';
import { dataFileLines, isolated } from '../helpers/pipeline.ts';

class Crash extends Error {}

/** The real client, which throws instead of doing the removal after `allowed` removals. */
function crashingHdfs(real: Hdfs, allowed: number, afterRemoval: boolean): Hdfs {
  let removals = 0;
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'remove') return Reflect.get(target, prop, receiver);
      return async (path: string) => {
        if (removals >= allowed && !afterRemoval) throw new Crash(`stopped before removing ${path}`);
        await target.remove(path);
        removals += 1;
        if (removals >= allowed && afterRemoval) throw new Crash(`stopped after removing ${path}`);
      };
    },
  });
}

describe('compaction stopped at each removal (real HDFS, PostgreSQL)', () => {
  const iso = isolated('compaction');
  const schema = `raw_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const pool = createPgPool(iso.config);
  const hdfs = new Hdfs(iso.config);
  const dt = '2025-03-01';
  const raw = `${iso.config.HDFS_RAW_ROOT}/${iso.config.KAFKA_TOPIC}/dt=${dt}`;

  before(async () => {
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(compactionDdl(schema));
  });
  after(async () => {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
    await hdfs.remove(`/logpipe-test/${iso.id}`, true).catch(() => undefined);
  });

  /** Three raw files for one hour, one line repeated across two of them. */
  async function writeHour(hour: number): Promise<string[]> {
    const line = (n: number) => JSON.stringify({ event_id: `h${hour}-e${n}`, event_type: 'search' });
    const files = [[line(1), line(2)], [line(3), line(2)], [line(4)]];
    const paths: string[] = [];
    for (const [i, lines] of files.entries()) {
      const path = `${raw}/hour=${String(hour).padStart(2, '0')}/part-${i}.ndjson`;
      await hdfs.writeFile(path, `${lines.join('\n')}\n`);
      paths.push(path);
    }
    return paths;
  }

  /** What the activity lists for the hour: its raw files left, and its compacted files. */
  async function inputsOf(hour: number): Promise<string[]> {
    const files: string[] = [];
    for (const dir of [`${raw}/hour=${String(hour).padStart(2, '0')}`, outDir(hour)]) {
      const listed = await hdfs.list(dir).catch(() => []);
      for (const f of listed) if (isDataFileName(f.pathSuffix)) files.push(`${dir}/${f.pathSuffix}`);
    }
    return files;
  }

  const outDir = (hour: number) =>
    hourFolder(iso.config.HDFS_COMPACTED_ROOT, iso.config.KAFKA_TOPIC, dt, hour);

  async function assertCompactedOnce(hour: number): Promise<void> {
    const rawLeft = await hdfs.list(`${raw}/hour=${String(hour).padStart(2, '0')}`).catch(() => []);
    assert.deepEqual(
      rawLeft.map((f) => f.pathSuffix),
      [],
      'no raw file left',
    );
    const out = await hdfs.list(outDir(hour));
    assert.deepEqual(
      out.map((f) => /^part-[0-9a-f]{16}\.parquet$/.test(f.pathSuffix)),
      [true],
      'one compacted (Parquet) file, no temporary one',
    );
    const ids = (await dataFileLines(hdfs, `${outDir(hour)}/${out[0]?.pathSuffix}`))
      .map((l) => (JSON.parse(l) as { event_id: string }).event_id)
      .sort();
    assert.deepEqual(
      ids,
      [1, 2, 3, 4].map((n) => `h${hour}-e${n}`),
    );
    const pending = await pool.query(
      `SELECT output FROM ${schema}.compactions WHERE hour = $1 AND NOT inputs_removed`,
      [hour],
    );
    assert.equal(pending.rowCount, 0, 'every record of the hour finished');
  }

  // Stopped before the 1st removal, after the 1st, after the 2nd, and after the 3rd (the last
  // one, when no raw file of the hour is left for the next listing to find).
  const cases: [string, number, boolean][] = [
    ['before the first removal', 0, false],
    ['after the first removal', 1, true],
    ['after the second removal', 2, true],
    ['after the last removal, before the record is marked', 3, true],
  ];
  for (const [i, [name, allowed, afterRemoval]] of cases.entries()) {
    it(`stopped ${name}: the next attempt finishes it`, async () => {
      const hour = i + 1;
      const inputs = await writeHour(hour);
      await assert.rejects(
        compactHour(crashingHdfs(hdfs, allowed, afterRemoval), pool, schema, outDir(hour), {
          dt,
          hour,
          inputs,
        }),
        Crash,
      );
      // The next attempt, as compactClosedHours makes it: pending records first, then the listing.
      await finishPendingCompactions(hdfs, pool, schema);
      const left = await inputsOf(hour);
      const rawLeft = left.filter((p) => p.startsWith(raw));
      if (rawLeft.length) await compactHour(hdfs, pool, schema, outDir(hour), { dt, hour, inputs: left });
      await assertCompactedOnce(hour);
    });
  }

  it('an output left without its record (cut short by a crash) is written again, no temporary file left', async () => {
    const hour = 10;
    const inputs = await writeHour(hour);
    // What a first attempt left: the output's name (derived from the inputs), half of one line.
    await assert.rejects(
      compactHour(crashingHdfs(hdfs, 0, false), pool, schema, outDir(hour), { dt, hour, inputs }),
      Crash,
    );
    const [output] = (await inputsOf(hour)).filter((p) => p.startsWith(outDir(hour)));
    assert.ok(output);
    await pool.query(`DELETE FROM ${schema}.compactions WHERE output = $1`, [output]);
    await hdfs.writeFile(output, '{"event_id":"h10-e1","event');
    await compactHour(hdfs, pool, schema, outDir(hour), { dt, hour, inputs });
    await assertCompactedOnce(hour);
  });

  it('a recorded compaction whose output is gone keeps its inputs and is done afresh', async () => {
    const hour = 9;
    const inputs = await writeHour(hour);
    await assert.rejects(
      compactHour(crashingHdfs(hdfs, 0, false), pool, schema, outDir(hour), { dt, hour, inputs }),
      Crash,
    );
    const [output] = (await inputsOf(hour)).filter((p) => p.startsWith(outDir(hour)));
    assert.ok(output);
    await hdfs.remove(output);
    await finishPendingCompactions(hdfs, pool, schema);
    assert.deepEqual(
      (await inputsOf(hour)).sort(),
      [...inputs].sort(),
      'no input removed without its output',
    );
    const recorded = await pool.query(`SELECT 1 FROM ${schema}.compactions WHERE output = $1`, [output]);
    assert.equal(recorded.rowCount, 0, 'the record of the missing output is dropped');
    await compactHour(hdfs, pool, schema, outDir(hour), { dt, hour, inputs });
    await assertCompactedOnce(hour);
  });
});
