import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../lib/config.ts';

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  it('defaults match the local stack', () => {
    const c = loadConfig({});
    assert.deepEqual(c.KAFKA_BROKERS, ['127.0.0.1:9092']);
    assert.equal(c.WEBHDFS_URL, 'http://127.0.0.1:9870');
    assert.deepEqual(c.CASSANDRA_CONTACT_POINTS, ['127.0.0.1']);
    assert.equal(c.CASSANDRA_LOCAL_DC, 'datacenter1');
    assert.equal(c.PGHOST, '127.0.0.1');
    assert.equal(c.PGPORT, 5432);
    assert.equal(c.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.equal(c.KAFKA_TOPIC, 'LogEvents');
  });

  it('reads lists and numbers from strings', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'a:1, b:2',
      PGPORT: '6543',
      CASSANDRA_CONTACT_POINTS: 'h1,h2:9043',
    });
    assert.deepEqual(c.KAFKA_BROKERS, ['a:1', 'b:2']);
    assert.equal(c.PGPORT, 6543);
    assert.deepEqual(c.CASSANDRA_CONTACT_POINTS, ['h1', 'h2:9043']);
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ PGPORT: '' }).PGPORT, 5432);
  });

  const invalid: [string, string, RegExp][] = [
    ['KAFKA_BROKERS', 'localhost', /host:port/],
    ['KAFKA_BROKERS', '127.0.0.1:99999', /host:port/],
    ['PGPORT', 'abc', /port number/],
    ['PGPORT', '70000', /port number/],
    ['PGPORT', '12.5', /port number/],
    ['WEBHDFS_URL', 'namenode:9870', /http\(s\) URL/],
    ['TEMPORAL_ADDRESS', 'http://x', /host:port/],
    ['CASSANDRA_KEYSPACE', 'Bad-Name', /keyspace name/],
    ['CASSANDRA_CONTACT_POINTS', 'a b', /list of hosts/],
    ['LOG_LEVEL', 'loud', /one of fatal/],
    // Decimal digits only: a coercion would read these as 16, 1000 and 10.
    ['KAFKA_PARTITIONS', '0x10', /decimal digits/],
    ['HDFS_ROLL_MAX_EVENTS', '1e3', /decimal digits/],
    ['PGPORT', ' 5432.0', /decimal digits/],
    ['MAX_EVENT_BYTES', '-1', /decimal digits/],
    // Upper bounds: sizes and counts a typo would make absurd.
    ['HDFS_ROLL_MAX_BYTES', '99999999999', /from 1024 to 1073741824/],
    ['KAFKA_PARTITIONS', '1000000', /from 1 to 10000/],
    ['STREAM_CASSANDRA_CONCURRENCY', '100000', /from 1 to 2048/],
    ['STREAM_FETCH_MAX_BYTES', '1024', /from 65536 to 268435456/],
    ['STREAM_BUFFER_MAX_BYTES', '4mb', /decimal digits/],
    ['STREAM_BUFFER_MAX_BYTES', '99999999999', /to 4294967296/],
    ['DLQ_MAX_VALUE_BYTES', '100', /from 1024/],
    ['DBT_FULL_TESTS_EVERY_MINUTES', 'hourly', /a number of minutes/],
    ['DBT_FULL_TESTS_EVERY_MINUTES', '99999', /from 0 to 10080/],
    ['DBT_RUNNER', 'thread', /expected server or process/],
    ['BATCH_WORKER_ACTIVITIES', '0', /from 1 to 64/],
    // Names that go into HDFS paths, CQL and Kafka.
    ['KAFKA_TOPIC', 'Log/Events', /Kafka topic name/],
    ['KAFKA_TOPIC', '..', /not \. or \.\./],
    ['KAFKA_DLQ_TOPIC', 'a b', /Kafka topic name/],
    ['CASSANDRA_LOCAL_DC', "dc1'}; DROP KEYSPACE logs; --", /data centre name/],
    ['STREAM_GROUP_ID', 'group\nid', /consumer group id/],
    ['HDFS_USER', 'Root User', /user name/],
    ['BATCH_TASK_QUEUE', 'batch queue', /task queue name/],
  ];
  for (const [variable, value, expected] of invalid) {
    it(`rejects ${variable}=${value} with a message naming it`, () => {
      const err = problemsOf({ [variable]: value });
      assert.equal(err.problems.length, 1);
      assert.equal(err.problems[0]?.variable, variable);
      assert.match(err.problems[0]?.message ?? '', expected);
      assert.match(err.message, new RegExp(`${variable}=`));
    });
  }

  it('names every bad variable at once', () => {
    const err = problemsOf({ PGPORT: 'x', KAFKA_BROKERS: 'y' });
    assert.deepEqual(err.problems.map((p) => p.variable).sort(), ['KAFKA_BROKERS', 'PGPORT']);
  });
});

describe('replication settings for a cluster', () => {
  it('keeps one replica on the local stack and uses NetworkTopologyStrategy above one', async () => {
    const { replicationOf } = await import('../../workers/streaming/cassandra-schema.ts');
    assert.equal(replicationOf(), `{'class': 'SimpleStrategy', 'replication_factor': 1}`);
    assert.equal(
      replicationOf({ replicationFactor: 3, localDc: 'dc1' }),
      `{'class': 'NetworkTopologyStrategy', 'dc1': 3}`,
    );
    const config = loadConfig({ KAFKA_REPLICATION_FACTOR: '3', CASSANDRA_REPLICATION_FACTOR: '3' });
    assert.equal(config.KAFKA_REPLICATION_FACTOR, 3);
    assert.equal(config.CASSANDRA_REPLICATION_FACTOR, 3);
    assert.throws(() => loadConfig({ KAFKA_REPLICATION_FACTOR: '0' }), /KAFKA_REPLICATION_FACTOR/);
  });
});
