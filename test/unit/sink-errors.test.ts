// Which sink errors are retried and which dead-letter their message, on the drivers' own error
// classes; and the shape of a dead letter that must fit the broker.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import cassandraDriver from 'cassandra-driver';
import { byBytes, deadLetterMessage } from '../../workers/streaming/dead-letter.ts';
import {
  cassandraRejectsContent,
  kafkaRejectsContent,
  serverMessage,
} from '../../workers/streaming/sink-errors.ts';

const { errors, types } = cassandraDriver;
const codes = types.responseErrorCodes;
// kafkajs builds a protocol error from the broker's numeric code (10 is MESSAGE_TOO_LARGE).
const require = createRequire(import.meta.url);
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode(code: number): { type: string; retriable: boolean; message: string; code: number };
};
type ErrorClass = new (e: unknown, opts?: { cause?: unknown }) => Error;
const { KafkaJSNonRetriableError, KafkaJSProtocolError } = require('kafkajs/src/errors') as {
  KafkaJSNonRetriableError: ErrorClass;
  KafkaJSProtocolError: ErrorClass;
};

describe('sink error classification', () => {
  it('Cassandra: an Invalid answer about the row is the content', () => {
    assert.equal(
      cassandraRejectsContent(
        new errors.ResponseError(codes.invalid, 'Key length of 70000 is longer than maximum of 65535'),
      ),
      true,
    );
  });
  it('Cassandra: an encoding error of the driver is the content', () => {
    assert.equal(cassandraRejectsContent(new RangeError('The value of "value" is out of range')), true);
    assert.equal(cassandraRejectsContent(new TypeError('Not a valid bigint')), true);
  });
  it('Cassandra: servers down, overloaded or slow are retried', () => {
    assert.equal(cassandraRejectsContent(new errors.NoHostAvailableError({})), false);
    assert.equal(
      cassandraRejectsContent(new errors.OperationTimedOutError('timed out', '127.0.0.1:9042')),
      false,
    );
    for (const code of [
      codes.unavailableException,
      codes.overloaded,
      codes.writeTimeout,
      codes.isBootstrapping,
      codes.serverError,
    ])
      assert.equal(
        cassandraRejectsContent(new errors.ResponseError(code, 'server side')),
        false,
        String(code),
      );
    assert.equal(cassandraRejectsContent(new Error('socket hang up')), false);
  });
  it('Cassandra: a missing keyspace or table is waited for, not blamed on the row', () => {
    assert.equal(
      cassandraRejectsContent(new errors.ResponseError(codes.invalid, 'unconfigured table ecomm_log')),
      false,
    );
    assert.equal(
      cassandraRejectsContent(new errors.ResponseError(codes.invalid, 'Keyspace logs does not exist')),
      false,
    );
  });
  it('Kafka: a record too large is found inside the error kafkajs wraps it in', () => {
    const tooLarge = new KafkaJSProtocolError(createErrorFromCode(10));
    assert.equal(kafkaRejectsContent(tooLarge), 'MESSAGE_TOO_LARGE');
    assert.equal(
      kafkaRejectsContent(new KafkaJSNonRetriableError(tooLarge, { cause: tooLarge })),
      'MESSAGE_TOO_LARGE',
    );
    const notLeader = new KafkaJSProtocolError(createErrorFromCode(6));
    assert.equal(kafkaRejectsContent(notLeader), undefined);
    assert.equal(kafkaRejectsContent(new Error('Connection timeout')), undefined);
  });
  it('keeps the server message short enough for a header', () => {
    const m = serverMessage(new Error('x'.repeat(5000)));
    assert.ok(m.startsWith('Error: xxx'));
    assert.ok(m.length <= 501);
  });
});

describe('dead letters that fit the broker', () => {
  const source = { topic: 'LogEvents', partition: 2 };
  it('keeps a small value as it is, with reason, sink and coordinates', () => {
    const m = deadLetterMessage(
      source,
      {
        offset: '41',
        value: Buffer.from('{"a":1}'),
        reason: 'sink_rejected',
        sink: 'cassandra',
        detail: 'cassandra: Key length',
      },
      1024,
      '2026-12-02T00:00:00.000Z',
    );
    assert.equal(m.key, 'LogEvents:2:41');
    assert.equal(String(m.value), '{"a":1}');
    assert.deepEqual(m.headers, {
      reason: 'sink_rejected',
      detail: 'cassandra: Key length',
      source_topic: 'LogEvents',
      source_partition: '2',
      source_offset: '41',
      dead_lettered_at: '2026-12-02T00:00:00.000Z',
      sink: 'cassandra',
    });
  });
  it('cuts a value above the limit and says from what size', () => {
    const m = deadLetterMessage(
      source,
      { offset: '7', value: Buffer.alloc(5000, 0x61), reason: 'too_large', detail: 'is 5000 bytes' },
      1024,
      'now',
    );
    assert.equal((m.value as Buffer).length, 1024);
    assert.equal((m.headers as Record<string, string>).truncated_from_bytes, '5000');
  });
  it('groups records by bytes, a big one alone', () => {
    assert.deepEqual(
      byBytes([3, 3, 3, 10, 1, 1], (n) => n, 6),
      [[3, 3], [3], [10], [1, 1]],
    );
    assert.deepEqual(
      byBytes([], (n: number) => n, 6),
      [],
    );
  });
});
