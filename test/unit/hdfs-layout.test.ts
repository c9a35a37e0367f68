// The HDFS layout (lib/hdfs-layout.ts) and what reads it without a server: the listing of hour
// folders and the compaction merge, on an in-memory HDFS with files written here by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeInputs } from '../../activities/compact-hour.ts';
import { fileLines } from '../../activities/data-file-lines.ts';
import { listHourFiles, listRawFiles } from '../../activities/hdfs-files.ts';
import {
  compactedFileName,
  hourClosedBefore,
  hourDir,
  hourFolder,
  hourKey,
  hourOf,
  isDataFileName,
  parseDayFolder,
  parseHourFolder,
  parseRawFileName,
  rawFileName,
  temporaryName,
} from '../../lib/hdfs-layout.ts';
import { MemoryHdfs } from '../helpers/memory-hdfs.ts';

describe('HDFS layout names', () => {
  it('names a raw file by topic, partition and zero-padded offsets, and reads it back', () => {
    const name = rawFileName({ topic: 'LogEvents', partition: 3, firstOffset: 7n, lastOffset: 1200n });
    assert.equal(name, 'LogEvents+3+00000000000000000007+00000000000000001200.ndjson');
    assert.deepEqual(parseRawFileName(name), {
      topic: 'LogEvents',
      partition: 3,
      firstOffset: 7n,
      lastOffset: 1200n,
    });
    assert.equal(parseRawFileName('legacy-export.ndjson'), undefined);
    const big = rawFileName({ topic: 'T', partition: 0, firstOffset: 2n ** 62n, lastOffset: 2n ** 63n - 1n });
    assert.equal(parseRawFileName(big)?.lastOffset, 9223372036854775807n);
  });

  it('puts an event in the UTC hour of its own timestamp', () => {
    assert.equal(
      hourDir('/logpipe/raw', 'LogEvents', new Date('2026-12-02T23:59:59+01:00')),
      '/logpipe/raw/LogEvents/dt=2026-12-02/hour=22',
    );
    assert.deepEqual(hourOf(new Date('2026-12-31T23:00:00.000Z')), { dt: '2026-12-31', hour: 23 });
    assert.equal(hourFolder('/r', 'T', '2026-01-05', 7), '/r/T/dt=2026-01-05/hour=07');
    assert.equal(hourKey('2026-01-05', 7), '2026-01-05T07');
  });

  it('reads back folder names of the layout only (two-digit hours, as the listing always read them)', () => {
    assert.equal(parseDayFolder('dt=2026-12-02'), '2026-12-02');
    for (const name of ['dt=2026-12-2', 'date=2026-12-02', 'dt=2026-12-02x', '_tmp']) {
      assert.equal(parseDayFolder(name), undefined, name);
    }
    assert.equal(parseHourFolder('hour=00'), 0);
    assert.equal(parseHourFolder('hour=23'), 23);
    for (const name of ['hour=7', 'hour=123', 'h=07', 'hour=0a'])
      assert.equal(parseHourFolder(name), undefined, name);
  });

  it('tells data files from temporary ones', () => {
    assert.ok(isDataFileName(rawFileName({ topic: 'T', partition: 1, firstOffset: 0n, lastOffset: 1n })));
    assert.ok(isDataFileName(compactedFileName('ab'.repeat(32))));
    assert.equal(compactedFileName('0123456789abcdef0123'), 'part-0123456789abcdef.parquet');
    assert.ok(isDataFileName('compacted-0123456789abcdef.ndjson'), 'an hour compacted by an older logpipe');
    assert.ok(!isDataFileName(temporaryName(compactedFileName('ab'.repeat(32)))));
    assert.ok(!isDataFileName('notes.txt'));
  });

  it('closes an hour only when it has ended', () => {
    const h = { dt: '2026-12-02', hour: 5 };
    assert.ok(!hourClosedBefore(h, Date.parse('2026-12-02T05:59:59.999Z')));
    assert.ok(hourClosedBefore(h, Date.parse('2026-12-02T06:00:00.000Z')));
  });
});

describe('listing hour folders', () => {
  it('lists the data files of every hour in path order, skipping other names', async () => {
    const hdfs = new MemoryHdfs();
    await hdfs.writeFile(
      '/raw/T/dt=2026-12-02/hour=05/T+0+00000000000000000000+00000000000000000001.ndjson',
      'a\n',
    );
    await hdfs.writeFile(
      '/raw/T/dt=2026-12-01/hour=23/T+1+00000000000000000004+00000000000000000009.ndjson',
      'b\n',
    );
    await hdfs.writeFile('/raw/T/dt=2026-12-02/hour=05/_tmp-x.ndjson', 'tmp\n');
    await hdfs.writeFile('/raw/T/dt=2026-12-02/hour=05/readme.txt', 'x');
    await hdfs.writeFile('/raw/T/dt=2026-12-02/hour=7/T+0+1+2.ndjson', 'not an hour\n');
    await hdfs.writeFile('/raw/T/_tmp/T/0/x.ndjson', 'bookkeeping\n');
    await hdfs.mkdirs('/raw/T/dt=2026-12-03');
    const files = await listRawFiles(hdfs, '/raw', 'T');
    assert.deepEqual(
      files.map((f) => [f.dt, f.hour, f.bytes, f.path.split('/').pop()]),
      [
        ['2026-12-01', 23, 2, 'T+1+00000000000000000004+00000000000000000009.ndjson'],
        ['2026-12-02', 5, 2, 'T+0+00000000000000000000+00000000000000000001.ndjson'],
      ],
    );
    assert.deepEqual(await listRawFiles(hdfs, '/none', 'T'), []);
    assert.deepEqual(await listHourFiles(hdfs, '/raw/T/dt=2026-12-02/hour=05'), [
      '/raw/T/dt=2026-12-02/hour=05/T+0+00000000000000000000+00000000000000000001.ndjson',
    ]);
    assert.deepEqual(await listHourFiles(hdfs, '/raw/T/dt=2030-01-01/hour=00'), []);
  });
});

describe('compaction merge', () => {
  const e = (id: string, type = 'search', extra = '') =>
    `{"event_id":"${id}","event_type":"${type}"${extra}}`;
  const linesOf = async (hdfs: MemoryHdfs, path: string) => {
    const out: string[] = [];
    for await (const chunk of fileLines(hdfs, path)) out.push(...chunk);
    return out;
  };

  it('writes each event once, in input order, a row group at a time into one Parquet file', async () => {
    const hdfs = new MemoryHdfs();
    await hdfs.writeFile('/h/a.ndjson', `${e('1')}\n${e('2')}\n\n${e('1')}\n`);
    await hdfs.writeFile(
      '/h/b.ndjson',
      `${e('2')}\n${e('3', 'purchase', ',"city":"Zürich"')}\n${e('1', 'error')}`,
    );
    const merged = await mergeInputs(hdfs, ['/h/a.ndjson', '/h/b.ndjson'], '/h/_tmp-out.parquet', 1);
    const expected = [e('1'), e('2'), e('3', 'purchase', ',"city":"Zürich"'), e('1', 'error')];
    assert.deepEqual(await linesOf(hdfs, '/h/_tmp-out.parquet'), expected);
    assert.equal(merged.lines, 4);
    assert.equal(merged.bytes, (await hdfs.readFile('/h/_tmp-out.parquet')).length);
    assert.equal((await hdfs.readFile('/h/_tmp-out.parquet')).subarray(0, 4).toString(), 'PAR1');
    assert.ok(hdfs.calls.includes('appendFile'), 'one row group per event: several appends');
    assert.equal(hdfs.files.has('/h/a.ndjson'), true, 'the merge removes nothing');
  });

  it('merges an earlier Parquet hour with late raw lines', async () => {
    const hdfs = new MemoryHdfs();
    await hdfs.writeFile('/h/a.ndjson', `${e('1')}\n${e('2')}\n`);
    await mergeInputs(hdfs, ['/h/a.ndjson'], '/h/part-1.parquet');
    await hdfs.writeFile('/h/late.ndjson', `${e('2')}\n${e('3')}\n`);
    const merged = await mergeInputs(hdfs, ['/h/late.ndjson', '/h/part-1.parquet'], '/h/part-2.parquet');
    assert.equal(merged.lines, 3);
    assert.deepEqual(await linesOf(hdfs, '/h/part-2.parquet'), [e('2'), e('3'), e('1')]);
  });

  it('keeps a line that is not JSON, or has no id, once per exact text', async () => {
    const hdfs = new MemoryHdfs();
    await hdfs.writeFile('/h/a.ndjson', 'not json\n{"no_id":1}\nnot json\n{"no_id":1} \n');
    const merged = await mergeInputs(hdfs, ['/h/a.ndjson'], '/h/out.parquet');
    assert.deepEqual(await linesOf(hdfs, '/h/out.parquet'), ['not json', '{"no_id":1}', '{"no_id":1} ']);
    assert.equal(merged.lines, 3);
  });

  it('writes a file of no rows for inputs with no lines, and fails on a missing input', async () => {
    const hdfs = new MemoryHdfs();
    await hdfs.writeFile('/h/empty.ndjson', '');
    assert.equal((await mergeInputs(hdfs, ['/h/empty.ndjson'], '/h/out.parquet')).lines, 0);
    assert.deepEqual(await linesOf(hdfs, '/h/out.parquet'), []);
    await assert.rejects(mergeInputs(hdfs, ['/h/gone.ndjson'], '/h/out2.parquet'), /not found/);
  });
});
