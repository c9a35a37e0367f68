// The poison catalogue (test/fixtures/poison.ts) through the real stack: Kafka, the streaming
// worker and both its sinks, HDFS, the batch workflow on Temporal, PostgreSQL and dbt. Each message
// ends where the catalogue says, no partition stops (good events sent after all of it arrive), lines
// in HDFS that the contract or PostgreSQL refuses are quarantined in raw.rejected_lines while the
// rest of their file loads, and two batch runs in a row succeed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { mergeInputs } from '../../activities/compact-hour.ts';
import { fileLoadChunks } from '../../activities/data-file-lines.ts';
import { loadFile, loadFileText } from '../../activities/load-file.ts';
import { schemaDdl } from '../../activities/warehouse-schema.ts';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import type { LogEvent } from '../../lib/events/schema.ts';
import type { HdfsToWarehouseResult } from '../../workflows/hdfs-to-warehouse.ts';
import { POISON_ENV, poisonLines, poisonMessages } from '../fixtures/poison.ts';
import { batchScenario, dataset, messages, startBatchWorker } from '../helpers/faults.ts';
import { MemoryHdfs } from '../helpers/memory-hdfs.ts';
import {
  cassandraEventIds,
  createTopics,
  type DlqMessage,
  dlqMessages,
  duplicates,
  hdfsEventIds,
  send,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

describe('poison catalogue through the real stack', () => {
  // No hour closes during the test: the old lines are loaded from the raw file they are in.
  const { iso, schema, warehouse, pool } = batchScenario('poison', {
    ...POISON_ENV,
    COMPACT_GRACE_MINUTES: '6000',
    HDFS_ROLL_MAX_AGE_MS: '500',
  });
  const now = Date.now();
  const catalogue = poisonMessages(now, iso.id);
  const oldLines = poisonLines(now, iso.id);
  const hdfs = new Hdfs(iso.config);
  const day = new Date(now - 3 * 3600_000).toISOString();
  const oldFile = `${iso.config.HDFS_RAW_ROOT}/${iso.config.KAFKA_TOPIC}/dt=${day.slice(0, 10)}/hour=${day.slice(11, 13)}/legacy-export.ndjson`;
  let streaming: WorkerHandle;
  let batch: WorkerHandle;
  let client: Client;
  let good: LogEvent[];
  let dlq: DlqMessage[];
  const runs: HdfsToWarehouseResult[] = [];

  const run = async () =>
    (await client.workflow.execute('hdfsToWarehouse', {
      taskQueue: iso.config.BATCH_TASK_QUEUE,
      workflowId: `test-poison-${randomUUID()}`,
      args: [{ dbt: true }],
    })) as HdfsToWarehouseResult;

  before(async () => {
    await createTopics(iso);
    streaming = startWorker(iso);
    batch = startBatchWorker(iso);
    client = await connectTemporal(iso.config);
    await send(
      iso,
      catalogue.map((c) => ({ key: 'poison', value: c.bytes })),
    );
    // Good events sent after the whole catalogue, on every partition: none may be held up.
    good = dataset(iso, 300);
    await send(iso, messages(good));
    dlq = await dlqMessages(iso, catalogue.filter((c) => c.expect.kind !== 'stored').length, 90_000);
  });
  after(async () => {
    await stopWorker(streaming);
    batch?.child.kill('SIGTERM');
    await batch?.exited;
    await client?.connection.close();
    await hdfs.remove(`/logpipe-test/${iso.id}`, true).catch(() => undefined);
  });

  const sharedId = () => {
    const stored = catalogue.filter((c) => c.expect.kind === 'stored');
    return (JSON.parse(String(stored[0]?.bytes)) as { event_id: string }).event_id;
  };

  it('dead-letters each refused message once, with its reason, field and sink', () => {
    const limit = Number(POISON_ENV.DLQ_MAX_VALUE_BYTES);
    const matched = new Set<DlqMessage>();
    for (const c of catalogue) {
      const e = c.expect;
      if (e.kind === 'stored') continue;
      // A value above the limit is cut to it: the head of the message, and its size in a header.
      const found = dlq.filter((m) => m.value.equals(c.bytes.subarray(0, limit)));
      assert.equal(found.length, 1, `${c.name}: one dead letter`);
      const m = found[0] as DlqMessage;
      matched.add(m);
      if (c.bytes.length > limit) {
        assert.equal(m.value.length, limit, `${c.name}: cut to DLQ_MAX_VALUE_BYTES`);
        assert.equal(
          m.headers.truncated_from_bytes,
          String(c.bytes.length),
          `${c.name}: says from what size`,
        );
      } else {
        assert.equal(m.headers.truncated_from_bytes, undefined);
      }
      if (e.kind === 'dead-letter') {
        assert.equal(m.headers.reason, e.reason, c.name);
        if (e.field) assert.match(m.headers.detail ?? '', e.field, c.name);
        if (e.truncated) assert.ok(c.bytes.length > limit);
      } else {
        assert.equal(m.headers.reason, 'sink_rejected', c.name);
        assert.equal(m.headers.sink, e.sink);
        assert.match(m.headers.detail ?? '', e.message, 'the server message');
      }
    }
    assert.equal(dlq.length, matched.size, 'no other dead letter');
  });

  it('keeps every partition moving: the good events after the catalogue are in both sinks once', async () => {
    const want = new Set([...good.map((e) => e.event_id), sharedId()]);
    const cass = await waitFor('the good events in Cassandra', async () => {
      const m = await cassandraEventIds(iso);
      return [...want].every((id) => m.has(id)) ? m : undefined;
    });
    const raw = await waitFor('the good events in HDFS', async () => {
      const m = await hdfsEventIds(iso);
      return [...want].every((id) => m.has(id)) ? m : undefined;
    });
    // The events of the catalogue that were refused are in neither sink.
    const cassExtra = [...cass.keys()].filter((id) => !want.has(id));
    const rawExtra = [...raw.keys()].filter((id) => !want.has(id));
    assert.deepEqual(cassExtra, [], 'Cassandra holds no refused event');
    assert.deepEqual(rawExtra, [], 'HDFS holds no refused event');
    // The id two types share: two lines in HDFS (one per event), and no other duplicate.
    assert.equal(raw.get(sharedId()), 2);
    assert.deepEqual(
      duplicates(raw).filter(([id]) => id !== sharedId()),
      [],
    );
    // Neither Cassandra table holds a row of the event it refused (its row in the other is removed).
    const cql = createCassandra(iso.config);
    try {
      const big = catalogue.find((c) => c.expect.kind === 'sink-rejected');
      const refusedId = (JSON.parse(String(big?.bytes)) as { event_id: string }).event_id;
      const rows = await cql.execute(
        `SELECT event_id FROM ${iso.config.CASSANDRA_KEYSPACE}.ecomm_log WHERE event_id = ? ALLOW FILTERING`,
        [refusedId],
      );
      assert.equal(rows.rowLength, 0);
    } finally {
      await cql.shutdown();
    }
  });

  it('two batch runs in a row succeed; refused lines are quarantined, the rest of their file loads', async () => {
    // Lines an older writer left in HDFS, one per catalogue entry, in one file.
    await hdfs.writeFile(oldFile, Buffer.concat(oldLines.flatMap((l) => [l.bytes, Buffer.from('\n')])));
    runs.push(await run());
    runs.push(await run());
    const [first, second] = runs;
    assert.ok(first && second);
    const quarantinable = oldLines.filter((l) => l.expect.kind === 'quarantined');
    assert.equal(first.load.rejected, quarantinable.length, 'counted in the run');
    assert.equal(second.load.rejected, 0);
    assert.equal(second.filesNew, 0, 'the second run finds nothing new');
    const q = await pool.query<{
      line_no: number;
      stage: string;
      error: string;
      bytes: number;
      line: Buffer;
    }>(
      `SELECT line_no, stage, error, bytes, line FROM ${schema}.rejected_lines WHERE path = $1 ORDER BY line_no`,
      [oldFile],
    );
    assert.deepEqual(
      q.rows.map((r) => r.line_no),
      oldLines.flatMap((l, i) => (l.expect.kind === 'quarantined' ? [i + 1] : [])),
    );
    for (const r of q.rows) {
      const l = oldLines[r.line_no - 1];
      assert.ok(l && l.expect.kind === 'quarantined');
      assert.equal(r.stage, 'contract');
      assert.match(r.error, l.expect.error, l.name);
      assert.ok(r.line.equals(l.bytes), `${l.name}: the line's bytes kept, a NUL included`);
      assert.equal(r.bytes, l.bytes.length);
    }
    const goodOld = oldLines.find((l) => l.expect.kind === 'loaded');
    const goodId = (JSON.parse(String(goodOld?.bytes)) as { event_id: string }).event_id;
    const loaded = await pool.query(`SELECT 1 FROM ${schema}.search_response WHERE event_id = $1`, [goodId]);
    assert.equal(loaded.rowCount, 1, 'the good line of the same file is loaded');
    const manifest = await pool.query<{ rows_rejected: number; rows_inserted: number }>(
      `SELECT rows_rejected, rows_inserted FROM ${schema}.load_manifest WHERE path = $1`,
      [oldFile],
    );
    assert.deepEqual(manifest.rows[0], { rows_rejected: quarantinable.length, rows_inserted: 1 });
  });

  it('an id reused across two types: each raw table keeps its event, the facts keep one', async () => {
    const id = sharedId();
    for (const t of ['search_response', 'purchase_response']) {
      const r = await pool.query(`SELECT 1 FROM ${schema}.${t} WHERE event_id = $1`, [id]);
      assert.equal(r.rowCount, 1, t);
    }
    const facts = await pool.query<{ event_type: string }>(
      `SELECT event_type FROM ${warehouse}.fact_events WHERE event_id = $1`,
      [id],
    );
    assert.deepEqual(
      facts.rows.map((r) => r.event_type),
      ['search'],
      'the first loaded keeps the id',
    );
    const orders = await pool.query(`SELECT 1 FROM ${warehouse}.fact_orders WHERE event_id = $1`, [id]);
    assert.equal(orders.rowCount, 0, 'the purchase under a search id adds no order line');
    for (const r of runs) {
      assert.ok(r.dbt);
      if (r !== runs[0] && !r.dbt.ran) {
        // Nothing loaded and the catalog unchanged since the first run's build: no build at all.
        assert.equal(r.catalog.changed, 0);
        assert.match(r.dbt.reason, /^nothing loaded since /);
        continue;
      }
      assert.deepEqual(
        r.dbt.tests.filter((t) => t.status !== 'pass').map((t) => [t.name, t.status]),
        [['assert_event_id_one_type', 'warn']],
        'every dbt test passes, the reuse is a warning',
      );
      assert.deepEqual(r.dbt.warnings, [{ name: 'assert_event_id_one_type', failures: 1 }]);
    }
  });

  it('a row PostgreSQL refuses is quarantined by its line number, the rest of the file (raw or lake) loads', async () => {
    // A check a warehouse owner may add; the loader learns of it only from PostgreSQL's refusal.
    const own = `raw_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    try {
      for (const ddl of schemaDdl(own)) await pool.query(ddl);
      await pool.query(
        `ALTER TABLE ${own}.search_response ADD CONSTRAINT small_results CHECK (results_count < 1000)`,
      );
      const lines = oldLines
        .filter((l) => l.expect.kind === 'loaded')
        .map((l) => JSON.parse(String(l.bytes)) as LogEvent & { details: Record<string, unknown> });
      const base = lines[0];
      assert.ok(base);
      const mk = (n: number, details: object) =>
        JSON.stringify({ ...base, event_id: `${iso.id}-pg-${n}`, details: { ...base.details, ...details } });
      const file = [
        // A query over two lines: its CSV row spans two lines of the COPY's input.
        mk(1, { query: 'noise\ncancelling' }),
        mk(2, { results_count: 5000 }),
        mk(3, {}),
        mk(4, { results_count: 7000 }),
      ].join('\n');
      const res = await loadFileText(
        pool,
        own,
        { path: '/pg-refuses.ndjson', kind: 'raw', dt: '2026-12-01', hour: 3 },
        `${file}\n`,
        'test',
      );
      assert.equal(res.inserted, 2);
      assert.equal(res.rejected, 2);
      const q = await pool.query<{ line_no: number; stage: string; error: string }>(
        `SELECT line_no, stage, error FROM ${own}.rejected_lines ORDER BY line_no`,
      );
      assert.deepEqual(
        q.rows.map((r) => [r.line_no, r.stage]),
        [
          [2, 'postgres'],
          [4, 'postgres'],
        ],
      );
      assert.match(q.rows[0]?.error ?? '', /^23514: .*small_results/);
      const loaded = await pool.query<{ event_id: string; query: string }>(
        `SELECT event_id, query FROM ${own}.search_response ORDER BY event_id`,
      );
      assert.deepEqual(
        loaded.rows.map((r) => [r.event_id, r.query]),
        [
          [`${iso.id}-pg-1`, 'noise\ncancelling'],
          [`${iso.id}-pg-3`, base.details.query],
        ],
      );
      // The same lines compacted into a lake file: the load COPYs its prepared rows, and the line
      // of a refused row is read back from the file for the quarantine.
      const lake = new MemoryHdfs();
      await lake.writeFile('/raw/pg-refuses.ndjson', `${file.replaceAll('-pg-', '-lake-')}\n`);
      await mergeInputs(lake, ['/raw/pg-refuses.ndjson'], '/lake/pg-refuses.parquet');
      const fromLake = await loadFile(
        pool,
        own,
        { path: '/lake/pg-refuses.parquet', kind: 'compacted', dt: '2026-12-01', hour: 3 },
        () => fileLoadChunks(lake, '/lake/pg-refuses.parquet'),
        'test',
      );
      assert.deepEqual([fromLake.inserted, fromLake.rejected, fromLake.lines], [2, 2, 4]);
      const ql = await pool.query<{ line_no: number; stage: string; line: Buffer }>(
        `SELECT line_no, stage, line FROM ${own}.rejected_lines WHERE path = '/lake/pg-refuses.parquet' ORDER BY line_no`,
      );
      const lakeLines = file.replaceAll('-pg-', '-lake-').split('\n');
      assert.deepEqual(
        ql.rows.map((r) => [r.line_no, r.stage, String(r.line)]),
        [
          [2, 'postgres', lakeLines[1]],
          [4, 'postgres', lakeLines[3]],
        ],
      );
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${own} CASCADE`);
    }
  });
});
