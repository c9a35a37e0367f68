// The streaming worker through the real stack: Kafka in, HDFS and Cassandra out, bad input to the
// dead-letter topic.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { parseEvent } from '../../lib/events/parse.ts';
import { parseRawFileName } from '../../lib/hdfs-layout.ts';
import { EventGenerator, toOriginalFormat } from '../../producers/generator.ts';
import { fileMessages } from '../../producers/sources.ts';
import { logpipe } from '../helpers/cli.ts';
import {
  cassandraEventIds,
  createTopics,
  dlqMessages,
  duplicates,
  hdfsEventIds,
  hdfsFiles,
  isolated,
  send,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

describe('streaming worker (real Kafka, HDFS, Cassandra)', () => {
  const iso = isolated('stream');
  let worker: WorkerHandle;
  const N = 4000;
  const now = Date.now();
  // 90% current events, 10% late by three hours: they must land in their own hour.
  const events = [
    ...new EventGenerator({ seed: iso.id, start: new Date(now - 120_000), rate: 1000 }).take(N),
  ].map((e, i) =>
    i % 10 === 0 ? { ...e, timestamp: new Date(Date.parse(e.timestamp) - 3 * 3600_000).toISOString() } : e,
  );

  before(async () => {
    await createTopics(iso);
    worker = startWorker(iso);
  });
  after(async () => {
    await stopWorker(worker);
  });

  it('N generated events end up as N rows in Cassandra and N raw lines in HDFS', async () => {
    const summary = await send(
      iso,
      events.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
    );
    assert.equal(summary.sent, N);
    const ids = new Set(events.map((e) => e.event_id));
    const cass = await waitFor('all rows in Cassandra', async () => {
      const m = await cassandraEventIds(iso);
      return m.size >= N ? m : undefined;
    });
    assert.equal(cass.size, N);
    assert.deepEqual(duplicates(cass), []);
    assert.ok([...cass.keys()].every((id) => ids.has(id)));
    const raw = await waitFor('all lines in HDFS', async () => {
      const m = await hdfsEventIds(iso);
      return m.size >= N ? m : undefined;
    });
    assert.equal(raw.size, N);
    assert.deepEqual(duplicates(raw), []);
  });

  it('names files by topic, partition and offsets, in the hour of the events themselves', async () => {
    const files = await hdfsFiles(iso);
    assert.ok(files.length >= 3);
    const hdfs = new Hdfs(iso.config);
    for (const f of files) {
      const m = /\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)$/.exec(f);
      assert.ok(m, f);
      const name = parseRawFileName(m[3] as string);
      assert.equal(name?.topic, iso.config.KAFKA_TOPIC);
      assert.ok(name && name.firstOffset <= name.lastOffset);
      for (const line of (await hdfs.readFile(f)).toString().trim().split('\n')) {
        const ts = (JSON.parse(line) as { timestamp: string }).timestamp;
        assert.equal(ts.slice(0, 10), m[1]);
        assert.equal(ts.slice(11, 13), m[2]);
      }
    }
    const hours = new Set(files.map((f) => f.replace(/\/[^/]+$/, '')));
    assert.ok(hours.size >= 2, 'late events have their own hour folder');
  });

  it('flattens rows with the original columns', async () => {
    const client = createCassandra(iso.config);
    const purchase = events.find((e) => e.event_type === 'purchase');
    assert.ok(purchase && purchase.event_type === 'purchase');
    const at = new Date(purchase.timestamp);
    const rs = await client.execute(
      `SELECT * FROM ${iso.config.CASSANDRA_KEYSPACE}.ecomm_log WHERE day = ? AND hour = ? AND timestamp = ? AND event_id = ?`,
      [at.toISOString().slice(0, 10), at.getUTCHours(), at, purchase.event_id],
      { prepare: true },
    );
    const row = rs.rows[0];
    assert.ok(row);
    assert.equal(row.event_type, 'purchase');
    assert.equal(row.details_amount, purchase.details.amount);
    assert.equal(row.details_payment_method, purchase.details.payment_method);
    assert.deepEqual(JSON.parse(row.details_items), purchase.details.items);
    assert.equal(row.geo_country, purchase.geo_location.country);
    const byUser = await client.execute(
      `SELECT event_id FROM ${iso.config.CASSANDRA_KEYSPACE}.events_by_user WHERE user_id = ?`,
      [purchase.user_id],
      { prepare: true },
    );
    assert.ok(byUser.rows.some((r) => r.event_id === purchase.event_id));
    await client.shutdown();
  });

  it('dead-letters M bad lines of a file with their reasons, original bytes and source, and keeps the good ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logpipe-dlq-'));
    const good = [...new EventGenerator({ seed: `${iso.id}-good`, start: new Date(now - 60_000) }).take(50)];
    const bad: Buffer[] = [
      Buffer.from('{"event_type": "search",'),
      Buffer.from('[1, 2, 3]'),
      Buffer.from(JSON.stringify({ ...good[0], event_id: 'x-missing', user_id: undefined })),
      Buffer.from(JSON.stringify({ ...good[1], event_id: 'x-type', event_type: 'refund' })),
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      Buffer.from(JSON.stringify({ ...good[2], event_id: 'x-big', pad: 'x'.repeat(70_000) })),
      Buffer.from(JSON.stringify({ ...good[3], event_id: 'x-future', timestamp: '2099-01-01T00:00:00Z' })),
    ];
    const lines = [...good.map((e) => Buffer.from(JSON.stringify(e))), ...bad];
    const file = join(dir, 'mixed.ndjson');
    writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    const before = (await cassandraEventIds(iso)).size;
    const res = await logpipe(['produce', '--file', file], iso.env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`sent ${lines.length}, failed 0`));
    const dlq = await dlqMessages(iso, bad.length);
    assert.equal(dlq.length, bad.length);
    const reasons = dlq.map((m) => m.headers.reason).sort();
    assert.deepEqual(reasons, [
      'invalid_json',
      'invalid_utf8',
      'not_an_object',
      'schema_violation',
      'timestamp_out_of_range',
      'too_large',
      'unknown_event_type',
    ]);
    for (const m of dlq) {
      assert.equal(m.headers.source_topic, iso.config.KAFKA_TOPIC);
      assert.match(m.headers.source_partition ?? '', /^\d+$/);
      assert.match(m.headers.source_offset ?? '', /^\d+$/);
      assert.ok(m.headers.detail);
      assert.ok(
        bad.some((b) => b.equals(m.value)),
        'original bytes unchanged',
      );
    }
    const after = await waitFor('good lines in Cassandra', async () => {
      const m = await cassandraEventIds(iso);
      return m.size >= before + good.length ? m : undefined;
    });
    assert.equal(after.size, before + good.length);
  });

  it('takes a file in the original format (no event_id) and a second replay adds nothing to Cassandra', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logpipe-orig-'));
    const original = [
      ...new EventGenerator({ seed: `${iso.id}-orig`, start: new Date(now - 30_000) }).take(300),
    ].map(toOriginalFormat);
    const file = join(dir, 'original.ndjson');
    writeFileSync(file, `${original.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const derived = new Set<string>();
    for await (const m of fileMessages(file)) {
      const r = parseEvent(m.value as Buffer);
      assert.ok(r.ok);
      derived.add(r.event.event_id);
    }
    const before = await cassandraEventIds(iso);
    assert.equal((await logpipe(['produce', '--file', file], iso.env)).code, 0);
    const once = await waitFor('the original-format events', async () => {
      const m = await cassandraEventIds(iso);
      return [...derived].every((id) => m.has(id)) ? m : undefined;
    });
    assert.equal(once.size, before.size + derived.size);
    assert.equal((await logpipe(['produce', '--file', file], iso.env)).code, 0);
    // Wait until the worker has rolled the replay into HDFS (it goes there twice; compaction dedups).
    await waitFor('the replay to be processed', async () => {
      const raw = await hdfsEventIds(iso);
      return [...derived].every((id) => raw.get(id) === 2) ? raw : undefined;
    });
    const twice = await cassandraEventIds(iso);
    assert.equal(twice.size, once.size);
    assert.deepEqual(duplicates(twice), []);
  });

  it('exports metrics: consumed, written per sink, dead-lettered by reason, lag', async () => {
    const port = await waitFor(
      'the metrics port in the log',
      async () => {
        const { readFileSync } = await import('node:fs');
        const log = readFileSync(
          join(process.cwd(), 'test-artifacts', 'logs', `${iso.id}-worker.log`),
          'utf8',
        );
        const m = /"metricsPort":(\d+)/.exec(log);
        return m ? Number(m[1]) : undefined;
      },
      10_000,
    );
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(text, /logpipe_stream_consumed_total\{topic="t_stream_\w+"\} \d+/);
    assert.match(text, /logpipe_stream_written_total\{sink="cassandra"\} \d+/);
    assert.match(text, /logpipe_stream_written_total\{sink="hdfs"\} \d+/);
    assert.match(text, /logpipe_stream_dead_lettered_total\{reason="invalid_json"\} 1/);
    assert.match(text, /logpipe_stream_lag\{partition="\d"\} \d+/);
  });
});
