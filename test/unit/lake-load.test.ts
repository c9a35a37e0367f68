// What the load reads of a lake file: the rows compaction checked and converted (raw_table_csv),
// not the lines parsed again. Hand-written golden lines (../shared/seed/FACTS.md shapes, foreign
// variation), a line off the contract and a repeat are compacted on an in-memory HDFS; the
// prepared rows must split exactly as the lines do through the load's own parser (rows, line
// numbers, refusals and their reasons), one row is checked against its CSV written here by hand,
// and a lake file of another layout is loaded from its lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeInputs } from '../../activities/compact-hour.ts';
import { fileLoadChunks } from '../../activities/data-file-lines.ts';
import { eventTypeOf, lakeFilePrepared, type PreparedChunk } from '../../activities/lake/parquet-file.ts';
import { splitChunk, splitPrepared } from '../../activities/rows.ts';
import { goldenText } from '../fixtures/golden.ts';
import { MemoryHdfs } from '../helpers/memory-hdfs.ts';

const OFF_CONTRACT = '{"event_type":"purchase","user_id":"u1","details":{"amount":-5}}';
const EXTRA = ['/lake/part.parquet', 'run-1'];

/** A split's rows as text, whether made from lines (strings) or read from a lake file (bytes). */
const rowTexts = (csv: Record<string, (string | Uint8Array)[]>) =>
  Object.fromEntries(
    Object.entries(csv).map(([type, rows]) => [
      type,
      rows.map((r) => (typeof r === 'string' ? r : Buffer.from(r).toString('utf8'))),
    ]),
  );

async function compacted(rowGroupRows = 8): Promise<{ hdfs: MemoryHdfs; lines: string[] }> {
  const hdfs = new MemoryHdfs();
  const golden = [
    ...goldenText('original-events').split('\n'),
    ...goldenText('foreign-variation').split('\n'),
  ].filter(Boolean);
  await hdfs.writeFile('/raw/a.ndjson', `${golden.join('\n')}\n${OFF_CONTRACT}\n${golden[2]}\n`);
  await mergeInputs(hdfs, ['/raw/a.ndjson'], '/lake/part.parquet', rowGroupRows);
  return { hdfs, lines: [...golden, OFF_CONTRACT] };
}

describe('loading a lake file from its prepared rows', () => {
  it('splits exactly as its lines do through the parser, chunk for chunk', async () => {
    const { hdfs, lines } = await compacted();
    const chunks = await lakeFilePrepared(hdfs, '/lake/part.parquet');
    assert.ok(chunks, 'a lake file of this layout');
    let lineNo = 1;
    let rows = 0;
    let refused = 0;
    for await (const chunk of chunks) {
      const count = chunk.csv.length;
      const fromLines = await splitChunk(lines.slice(lineNo - 1, lineNo - 1 + count), lineNo, EXTRA);
      const fromLake = splitPrepared(chunk, lineNo, EXTRA);
      assert.deepEqual(rowTexts(fromLake.csv), rowTexts(fromLines.csv), `rows of lines ${lineNo}..`);
      assert.equal(fromLake.tail, fromLines.tail);
      assert.deepEqual(fromLake.lineNos, fromLines.lineNos);
      assert.deepEqual(fromLake.refused, fromLines.refused);
      assert.equal(fromLake.lines, fromLines.lines);
      rows += Object.values(fromLake.csv).reduce((n, r) => n + r.length, 0);
      refused += fromLake.refused.length;
      lineNo += count;
    }
    assert.equal(lineNo - 1, lines.length, 'every line once, in order');
    assert.equal(refused, 1, 'the line off the contract');
    assert.equal(rows, lines.length - 1);
  });

  it('a search row is the CSV of its columns (written by hand), then the load’s columns', async () => {
    const { hdfs } = await compacted(100);
    const chunks = (await lakeFilePrepared(hdfs, '/lake/part.parquet')) as AsyncGenerator<PreparedChunk>;
    const { value } = await chunks.next();
    const first = value as PreparedChunk;
    const split = splitPrepared(first, 1, EXTRA);
    const id = rowTexts(split.csv).search?.[0]?.split(',')[0];
    assert.match(String(id), /^[0-9a-f-]{36}$/, 'the id derived from the line');
    // {"timestamp": "2025-03-01T10:02:11.482913Z", ..., "event_type": "search", "user_id": "user_1187",
    // "session_id": "sess_48213", "product_id": "prod_07731", "session_duration": 412, "device_type":
    // "mobile", "geo_location": {"country": "EG", "city": "Cairo"}, "details": {"query": "headphones",
    // "results_count": 37, "filters": {"category": "Electronics"}, "searched_at": "…482871Z"}}
    assert.ok(split.csv.search[0] instanceof Uint8Array, 'the bytes the file holds, not decoded');
    assert.equal(
      `${rowTexts(split.csv).search?.[0]}${split.tail}`,
      `${id},1,2025-03-01T10:02:11.482913Z,INFO,ecommerce-platform,search,user_1187,sess_48213,prod_07731,412,mobile,EG,Cairo,headphones,37,"{""category"":""Electronics""}",2025-03-01T10:02:11.482871Z,/lake/part.parquet,run-1\n`,
    );
  });

  it('the line of a refused row is read from the file when the quarantine asks for it', async () => {
    const { hdfs, lines } = await compacted(100);
    const chunks = (await lakeFilePrepared(hdfs, '/lake/part.parquet')) as AsyncGenerator<PreparedChunk>;
    const chunk = (await chunks.next()).value as PreparedChunk;
    const split = splitPrepared(chunk, 1, EXTRA);
    assert.equal(split.refused.length, 1);
    const at = split.refused.map((r) => r.lineNo - 1);
    assert.deepEqual(await chunk.lines(at), [OFF_CONTRACT]);
    assert.deepEqual(await chunk.lines([0, 3]), [lines[0], lines[3]]);
  });

  it('a lake file written for another layout is loaded from its lines', async () => {
    const { hdfs, lines } = await compacted();
    // The same file with its layout entry renamed, as an older logpipe wrote it.
    const bytes = Buffer.from(await hdfs.readFile('/lake/part.parquet'));
    const key = Buffer.from('logpipe.raw_table_csv');
    const at = bytes.indexOf(key);
    assert.ok(at > 0);
    bytes.write('logpipe.raw_table_xxx', at);
    await hdfs.writeFile('/lake/old.parquet', bytes);
    assert.equal(await lakeFilePrepared(hdfs, '/lake/old.parquet'), undefined);
    const got: string[] = [];
    for await (const chunk of fileLoadChunks(hdfs, '/lake/old.parquet')) {
      assert.ok(Array.isArray(chunk), 'lines, not prepared rows');
      got.push(...chunk);
    }
    assert.deepEqual(got, lines);
  });
});

describe('the event type of a lake row, read from its bytes', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it('names each of the contract’s five types', () => {
    for (const t of ['search', 'purchase', 'order_complete', 'order_failed', 'error'])
      assert.equal(eventTypeOf(bytes(t)), t);
  });
  it('is null for anything else, a word of a type’s length included', () => {
    for (const t of [
      'Search',
      'searcH',
      'errors',
      'order_failee',
      'order_complet',
      '',
      'sérch',
      'purchas\u0000',
    ])
      assert.equal(eventTypeOf(bytes(t)), null, JSON.stringify(t));
    assert.equal(eventTypeOf(null), null);
    assert.equal(eventTypeOf(undefined), null);
  });
});
