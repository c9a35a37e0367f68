// The lake's Parquet files read by an independent reader (pyarrow from PyPI, installed by
// test/helpers/pyarrow.ts into the cache): the hand-written golden fixtures (the original system's
// shapes and foreign variation, from ../shared/seed/FACTS.md) and a line off the contract, merged
// by compaction on an in-memory HDFS; every row is compared with what the lines say, the expected
// values written here by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeInputs } from '../../activities/compact-hour.ts';
import { lakeColumns } from '../../activities/lake/lake-columns.ts';
import { goldenText } from '../fixtures/golden.ts';
import { MemoryHdfs } from '../helpers/memory-hdfs.ts';
import { type ParquetAsRead, readWithPyarrow } from '../helpers/pyarrow.ts';

const micros = (iso: string, extraMicros: number) => Date.parse(iso) * 1000 + extraMicros;
const OFF_CONTRACT = '{"event_type":"search","note":"no user, no timestamp"}';

describe('lake files, read by pyarrow', () => {
  let read: ParquetAsRead;
  let lines: string[];
  const row = (i: number) => read.rows[i] as Record<string, unknown>;

  it('an hour of golden lines compacts into one zstd Parquet file pyarrow reads, row for row', async () => {
    const hdfs = new MemoryHdfs();
    lines = [
      ...goldenText('original-events').split('\n'),
      ...goldenText('foreign-variation').split('\n'),
    ].filter(Boolean);
    await hdfs.writeFile('/raw/a.ndjson', `${lines.join('\n')}\n${OFF_CONTRACT}\n${lines[0]}\n`);
    // Row groups of 8 rows: the file has several, as an hour of 25,000-row groups does.
    const merged = await mergeInputs(hdfs, ['/raw/a.ndjson'], '/lake/part.parquet', 8);
    assert.equal(merged.lines, lines.length + 1, 'the repeated first line is kept once');
    read = await readWithPyarrow(await hdfs.readFile('/lake/part.parquet'));
    assert.equal(read.num_rows, 21);
    assert.equal(read.row_groups, 3);
    assert.deepEqual(read.codecs, ['ZSTD']);
    assert.deepEqual(Object.keys(read.schema), lakeColumns());
    // Bounds where a reader can skip row groups by them; none for whole lines and CSV rows (the
    // writer keeps every row group's bounds until the footer, and a line's pins its input chunk).
    assert.ok(read.with_stats.includes('timestamp') && read.with_stats.includes('event_id'));
    assert.ok(!read.with_stats.includes('raw') && !read.with_stats.includes('raw_table_csv'));
    assert.deepEqual(
      read.rows.map((r) => r.raw),
      [...lines, OFF_CONTRACT],
      'every line as it came, in order',
    );
  });

  it('columns have the types a query engine expects', () => {
    assert.equal(read.schema.timestamp, 'timestamp[us, tz=UTC]');
    assert.equal(read.schema.amount, 'decimal128(14, 2)');
    assert.equal(read.schema.quantity, 'list<element: int32 not null>');
    assert.equal(read.schema.delivery_estimate, 'date32[day]');
    assert.equal(read.schema.results_count, 'int32');
    assert.equal(read.schema.session_duration, 'double');
    assert.equal(read.schema.filters, 'string', 'JSON text');
    assert.equal(read.schema.raw, 'string');
  });

  it('a search: its columns set, every other type’s null', () => {
    const r = row(0);
    assert.equal(r.event_type, 'search');
    assert.equal(r.timestamp, micros('2025-03-01T10:02:11Z', 482913));
    assert.equal(r.searched_at, micros('2025-03-01T10:02:11Z', 482871));
    assert.equal(r.query, 'headphones');
    assert.equal(r.results_count, 37);
    assert.deepEqual(JSON.parse(String(r.filters)), { category: 'Electronics' });
    assert.deepEqual([r.user_id, r.session_id, r.product_id], ['user_1187', 'sess_48213', 'prod_07731']);
    assert.deepEqual(
      [r.geo_country, r.geo_city, r.device_type, r.session_duration],
      ['EG', 'Cairo', 'mobile', 412],
    );
    assert.match(String(r.event_id), /^[0-9a-f-]{36}$/, 'the id derived from the line (it has none)');
    for (const c of ['amount', 'order_id', 'quantity', 'error_code', 'failed_at', 'contract_error'])
      assert.equal(r[c], null, c);
  });

  it('a purchase and a completed order: exact amounts, quantities, dates, a multi-line address', () => {
    const p = row(3);
    assert.equal(p.event_type, 'purchase');
    assert.equal(p.amount, '1289.97');
    assert.equal(p.payment_method, 'credit_card');
    assert.deepEqual(p.quantity, [3]);
    assert.equal(p.shipping_address, 'Friedrichstraße 43\n10117 Berlin');
    assert.equal(p.order_id, null, 'the original purchase has no order id');
    assert.equal(row(5).amount, '2954.00');
    const o = row(6);
    assert.equal(o.event_type, 'order_complete');
    assert.deepEqual([o.order_id, o.amount, o.shipping_method], ['order_381920', '119.98', 'express']);
    assert.equal(o.delivery_estimate, '2025-03-04');
    assert.equal(o.completed_at, micros('2025-03-01T10:16:30Z', 551801));
    assert.equal(o.payment_method, null);
    assert.equal(row(8).delivery_estimate, '2025-03-08', 'a date-only estimate');
  });

  it('a failed order and an error: their own columns', () => {
    const f = row(9);
    assert.deepEqual(
      [f.event_type, f.order_id, f.attempted_amount],
      ['order_failed', 'order_999999', '349.50'],
    );
    assert.equal(f.failed_at, micros('2025-03-01T10:23:47Z', 318830));
    const e = row(11);
    assert.deepEqual(
      [e.event_type, e.error_code, e.message],
      ['error', 'ERR-5021', 'Payment processing failed'],
    );
    assert.equal(e.error_at, micros('2025-03-01T10:28:14Z', 640281), 'error_at from the top level');
    assert.equal(row(12).error_at, Date.parse('2025-03-01T10:31:00Z') * 1000);
  });

  it('foreign variation: offsets to UTC, unicode, a fractional duration; extra fields stay in raw', () => {
    const s = row(14);
    assert.equal(s.timestamp, Date.parse('2025-03-01T10:10:12.5Z') * 1000, '15:40:12.5+05:30');
    assert.deepEqual(
      [s.geo_city, s.query, s.session_duration, s.service],
      ['東京', 'ノートパソコン', 45.75, 'storefront-mobile'],
    );
    assert.equal(JSON.parse(String(s.raw)).experiment.arm, 'B');
    assert.equal(row(15).level, 'WARN');
    assert.equal(row(15).query, 'câmera "full-frame" <4k>');
  });

  it('a line off the contract keeps its text and the reason, with no typed value', () => {
    const r = row(20);
    assert.equal(r.raw, OFF_CONTRACT);
    assert.match(String(r.contract_error), /./);
    for (const c of ['event_id', 'event_type', 'timestamp', 'user_id']) assert.equal(r[c], null, c);
  });
});
