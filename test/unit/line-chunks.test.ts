// Reading a file a range at a time (lib/clients/hdfs-lines.ts) and the COPY messages of a load,
// on bytes written here by hand: lines cut at every possible place, multi-byte characters across
// range edges, a line longer than a range, no final newline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyMessages } from '../../activities/load-file.ts';
import { splitChunk, splitLines } from '../../activities/rows.ts';
import { lineChunks, type RangeReader, textChunks } from '../../lib/clients/hdfs-lines.ts';

/** A file held in memory, served by ranges as WebHDFS OPEN with offset and length does. */
function fileOf(bytes: Buffer): RangeReader & { reads: number } {
  return {
    reads: 0,
    async stat() {
      return { length: bytes.length };
    },
    async readRange(_path, offset, length) {
      this.reads++;
      return bytes.subarray(offset, offset + length);
    },
  };
}

async function collect(reader: RangeReader, rangeBytes: number): Promise<string[][]> {
  const out: string[][] = [];
  for await (const chunk of lineChunks(reader, '/f', rangeBytes)) out.push(chunk);
  return out;
}

describe('lines of a file, a range at a time', () => {
  const text = '{"a":"é"}\n\n{"b":"日本語"}\n{"c":"🙂 x"}\nlast line without newline';
  const expected = text.split('\n');

  for (const rangeBytes of [1, 2, 3, 5, 7, 16, 1000]) {
    it(`gives every line whole and in place with ranges of ${rangeBytes} bytes`, async () => {
      const chunks = await collect(fileOf(Buffer.from(text, 'utf8')), rangeBytes);
      assert.deepEqual(chunks.flat(), expected, 'same lines, empty ones kept for the numbering');
      for (const c of chunks) assert.ok(c.length > 0);
    });
  }

  it('reads one range at a time, each at most rangeBytes', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    const file = fileOf(Buffer.from(`${lines.join('\n')}\n`));
    const chunks = await collect(file, 64);
    assert.deepEqual(chunks.flat(), lines, 'a final newline makes no empty last line');
    assert.ok(chunks.length > 5);
    assert.equal(file.reads, Math.ceil(Buffer.byteLength(`${lines.join('\n')}\n`) / 64));
  });

  it('a line longer than a range is read on until its end', async () => {
    const long = 'x'.repeat(1000);
    assert.deepEqual((await collect(fileOf(Buffer.from(`a\n${long}\nb\n`)), 10)).flat(), ['a', long, 'b']);
  });

  it('an empty file has no lines; a missing file is an error', async () => {
    assert.deepEqual(await collect(fileOf(Buffer.alloc(0)), 8), []);
    const missing: RangeReader = { stat: async () => undefined, readRange: async () => Buffer.alloc(0) };
    await assert.rejects(collect(missing, 8), /not found/);
  });

  it('a file that ends before its size is an error, not a short load', async () => {
    const short: RangeReader = {
      stat: async () => ({ length: 100 }),
      readRange: async () => Buffer.alloc(0),
    };
    await assert.rejects(collect(short, 8), /ended at 0 of 100 bytes/);
  });

  it('a text held whole is one chunk numbered the same way', async () => {
    const chunks: string[][] = [];
    for await (const c of textChunks('a\n\nb\n')) chunks.push(c);
    assert.deepEqual(chunks, [['a', '', 'b']]);
  });
});

describe('COPY messages and chunk numbering', () => {
  it('joins rows into messages of about the given size, every row once, in order, each with its tail', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},row`);
    const messages = [...copyMessages(rows, ',f,r\n', 40)];
    assert.equal(Buffer.concat(messages).toString('utf8'), rows.map((r) => `${r},f,r\n`).join(''));
    assert.ok(messages.length > 5 && messages.length < 50);
    for (const m of messages.slice(0, -1)) assert.ok(m.length >= 40);
    assert.deepEqual([...copyMessages([], '\n', 40)], []);
  });

  it('copies a lake file’s rows as their bytes, multi-byte text the same as written from a string', () => {
    const text = ['1,Zürich', '2,"東京, 日本"', '3,😀'];
    const bytes = text.map((t) => new TextEncoder().encode(t));
    const expected = '1,Zürich,/l,r\n2,"東京, 日本",/l,r\n3,😀,/l,r\n';
    assert.equal(Buffer.concat([...copyMessages(bytes, ',/l,r\n', 8)]).toString('utf8'), expected);
    assert.equal(Buffer.concat([...copyMessages(text, ',/l,r\n', 8)]).toString('utf8'), expected);
    // A message is cut after a whole row, never inside one: each decodes alone.
    for (const m of copyMessages(bytes, ',/l,r\n', 8)) assert.match(m.toString('utf8'), /^(\d,[^\n]*\n)+$/u);
  });

  it('numbers a chunk’s lines from its first line number, like the whole file', async () => {
    const good = JSON.stringify({
      event_id: 'e1',
      schema_version: 1,
      timestamp: '2026-12-02T05:00:00.000Z',
      level: 'INFO',
      service: 'search-service',
      event_type: 'search',
      user_id: 'user_1',
      session_id: 's1',
      product_id: 'prod_00001',
      session_duration: 10,
      device_type: 'mobile',
      geo_location: { country: 'FR', city: 'Paris' },
      details: { query: 'shoes', results_count: 3, filters: {}, searched_at: '2026-12-02T05:00:00.000Z' },
    });
    const lines = ['not json', '', good, '{"event_type":"search"'];
    const whole = await splitLines(lines.join('\n'));
    const second = await splitChunk(lines.slice(2), 3);
    assert.deepEqual(
      whole.refused.map((r) => r.lineNo),
      [1, 4],
    );
    assert.deepEqual(
      second.refused.map((r) => r.lineNo),
      [4],
    );
    assert.deepEqual(second.lineNos.search, whole.lineNos.search);
    assert.deepEqual(whole.lineNos.search, [3]);
  });
});
