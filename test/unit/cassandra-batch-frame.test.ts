// The batch frames logpipe writes are the driver's own, byte for byte: the same requests through
// cassandra-driver's BatchRequest.write and through batchFrame.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import cassandra from 'cassandra-driver';
import {
  type BatchRequestLike,
  batchFrame,
  DriverBatchRequest,
  driverBatchWrite,
} from '../../lib/clients/cassandra-batch-frame.ts';

const require = createRequire(import.meta.url);
const Encoder = require('cassandra-driver/lib/encoder.js') as new (
  version: number,
  options: object,
) => { protocolVersion: number; encode(v: unknown, t: { code: number }): Buffer | null };
const { dataTypes, consistencies, Long } = cassandra.types;

interface Opts {
  tracing?: boolean;
  payload?: object;
  serial?: number;
  timestamp?: InstanceType<typeof Long> | null;
  logged?: boolean;
}

function request(queries: object[], o: Opts = {}): BatchRequestLike {
  const options = {
    getOrGenerateTimestamp: () =>
      o.timestamp === undefined ? Long.fromNumber(1_733_000_000_123_456) : o.timestamp,
    getHints: () => undefined,
    isBatchCounter: () => false,
    isBatchLogged: () => o.logged ?? false,
    isQueryTracing: () => o.tracing ?? false,
    getCustomPayload: () => o.payload,
    getConsistency: () => consistencies.localQuorum,
    getSerialConsistency: () => o.serial,
    getKeyspace: () => undefined,
  };
  const Ctor = DriverBatchRequest as unknown as new (q: object[], o: object) => BatchRequestLike;
  return new Ctor(queries, options);
}

const T = (code: number) => ({ type: { code } });
const LOG_COLUMNS = [
  T(dataTypes.text),
  T(dataTypes.int),
  T(dataTypes.timestamp),
  T(dataTypes.text),
  T(dataTypes.double),
  T(dataTypes.int),
  T(dataTypes.varchar),
  T(dataTypes.timestamp),
];
const prepared = (params: unknown[], columns = LOG_COLUMNS, id = 'a1b2c3d4e5f60718') => ({
  query: 'INSERT …',
  params,
  queryId: Buffer.from(id, 'hex'),
  meta: { columns },
});

const encoder = (version = 4) => new Encoder(version, { encoding: { useUndefinedAsUnset: true } });

function same(req: BatchRequestLike, version = 4, streamId = 17): Buffer | undefined {
  const enc = encoder(version);
  const driver = driverBatchWrite().call(req, enc as never, streamId);
  const driverLength = req.length;
  const ours = batchFrame(req, enc as never, streamId);
  if (ours) {
    assert.equal(ours.toString('hex'), driver.toString('hex'));
    assert.equal(req.length, driverLength);
  }
  return ours;
}

describe('CQL batch frames written in one buffer', () => {
  it('are the driver’s bytes for rows as the worker writes them', () => {
    const rows = [
      prepared([
        '2026-12-07',
        10,
        new Date('2026-12-07T10:02:11.482Z'),
        'ev-1',
        412.5,
        37,
        'Cairo',
        new Date(0),
      ]),
      prepared([
        '2026-12-07',
        23,
        new Date('1969-12-31T23:59:59.999Z'),
        'évènement ✓ 𝄞',
        -0.0,
        -2147483648,
        '',
        new Date(8.64e15),
      ]),
      prepared(
        ['x', 2147483647, new Date(-8.64e15), 'y', Number.MAX_VALUE, 0, 'z', new Date(1)],
        LOG_COLUMNS,
        'ff',
      ),
    ];
    assert.ok(same(request(rows)));
  });

  it('are the driver’s bytes for null, unset, undefined, Buffers and values only the driver encodes', () => {
    const rows = [
      prepared([null, null, null, cassandra.types.unset, null, undefined, Buffer.from('raw'), null]),
      // A number for a timestamp, a string for a double, a fraction for an int: the driver's to encode.
      prepared(['a', 7, 1_733_000_000_000, 'b', 1.25, 3, 'c', '2026-12-07T10:00:00Z']),
      prepared(['lone \ud800 surrogate', 1, new Date(5), 'b', 2, 3, 'c', new Date(6)]),
    ];
    assert.ok(same(request(rows)));
    // A value the driver refuses is refused the same way.
    const bad = request([prepared(['a', 'not a number', new Date(1), 'b', 1, 2, 'c', new Date(2)])]);
    assert.throws(() => driverBatchWrite().call(bad, encoder() as never, 1), TypeError);
    assert.throws(() => batchFrame(bad, encoder() as never, 1), TypeError);
  });

  it('carry the batch’s type, serial consistency and timestamp as the driver writes them, or none', () => {
    const rows = [prepared(['a', 1, new Date(1), 'b', 1, 2, 'c', new Date(2)])];
    assert.ok(same(request(rows, { logged: true })));
    assert.ok(same(request(rows, { serial: consistencies.localSerial })));
    assert.ok(same(request(rows, { timestamp: null })));
    assert.ok(same(request(rows, { timestamp: Long.fromNumber(-5) })));
    assert.ok(same(request(rows), 3, 32767));
  });

  it('leave to the driver what they do not cover: tracing, payloads, other versions, unprepared statements', () => {
    const rows = [prepared(['a', 1, new Date(1), 'b', 1, 2, 'c', new Date(2)])];
    assert.equal(batchFrame(request(rows, { tracing: true }), encoder() as never, 1), undefined);
    assert.equal(
      batchFrame(request(rows, { payload: { k: Buffer.from('v') } }), encoder() as never, 1),
      undefined,
    );
    assert.equal(batchFrame(request(rows), encoder(5) as never, 1), undefined);
    assert.equal(batchFrame(request([{ query: 'INSERT …', params: [] }]), encoder() as never, 1), undefined);
  });
});
