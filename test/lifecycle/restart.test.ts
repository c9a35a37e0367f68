// up, status, down, up again: what was written before the restart is still there.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCassandra } from '../../lib/clients/cassandra.ts';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { createKafka } from '../../lib/clients/kafka.ts';
import { createPgPool } from '../../lib/clients/postgres.ts';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import { loadConfig } from '../../lib/config.ts';
import { logpipe } from '../helpers/cli.ts';

const config = loadConfig();
const STACK = ['postgres', 'kafka', 'hdfs-namenode', 'hdfs-datanode', 'cassandra', 'temporal'];

interface StatusJson {
  services: {
    name: string;
    state: string;
    pid: number | null;
    port: number | null;
    url: string | null;
    log: string;
  }[];
}

async function status(scope: 'pipeline' | 'stack' = 'pipeline'): Promise<{ code: number; json: StatusJson }> {
  const res = await logpipe(scope === 'stack' ? ['stack', 'status', '--json'] : ['status', '--json']);
  return { code: res.code, json: JSON.parse(res.stdout) as StatusJson };
}

describe('stack lifecycle', () => {
  const id = randomUUID();
  const topic = `lifecycle-${id}`;
  const hdfsFile = `/logpipe-test/lifecycle/${id}.txt`;
  const keyspace = `lifecycle_${id.replaceAll('-', '').slice(0, 12)}`;
  const scheduleId = `lifecycle-${id}`;

  it('status reports every server up, with pid, port and log', async () => {
    const { code, json } = await status('stack');
    assert.equal(code, 0);
    for (const name of STACK) {
      const s = json.services.find((x) => x.name === name);
      assert.ok(s, `${name} listed`);
      assert.equal(s.state, 'up', `${name} up`);
      assert.ok(s.pid && s.pid > 0);
      assert.ok(s.port && s.port > 0);
      assert.match(s.log, /\.log$/);
    }
  });

  it('keeps a Kafka message, an HDFS file, a Cassandra row, a PostgreSQL row and a schedule across down and up', async () => {
    // Write one thing to each store.
    const kafka = createKafka(config, 'lifecycle-test');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, messages: [{ value: id }] });
    await producer.disconnect();
    await admin.disconnect();

    await new Hdfs(config).writeFile(hdfsFile, id);

    const cass = createCassandra(config);
    await cass.execute(
      `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await cass.execute(`CREATE TABLE ${keyspace}.t (id text PRIMARY KEY)`);
    await cass.execute(`INSERT INTO ${keyspace}.t (id) VALUES (?)`, [id], { prepare: true });
    await cass.shutdown();

    const pool = createPgPool(config);
    await pool.query('CREATE TABLE IF NOT EXISTS lifecycle_test (id text PRIMARY KEY)');
    await pool.query('INSERT INTO lifecycle_test VALUES ($1)', [id]);
    await pool.end();

    const temporal = await connectTemporal(config);
    await temporal.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: 'none', taskQueue: 'none', args: [] },
      state: { paused: true },
    });
    await temporal.connection.close();

    // Down: everything stops and status says so, naming the logs.
    const down = await logpipe(['down']);
    assert.equal(down.code, 0, down.stderr);
    const stopped = await status();
    assert.equal(stopped.code, 3);
    for (const name of STACK) assert.equal(stopped.json.services.find((s) => s.name === name)?.state, 'down');
    const human = await logpipe(['status']);
    assert.match(human.stdout, /down: postgres \(not running; log: .*postgres\.log\)/);

    // Up again, detached, and every write is still there.
    const up = await logpipe(['up', '--detach', '--no-producer']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await status()).code, 0);

    const kafka2 = createKafka(config, 'lifecycle-test');
    const consumer = kafka2.consumer({ groupId: `lifecycle-${id}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const value = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('message lost')), 60_000);
      consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(String(message.value));
        },
      });
    });
    await consumer.disconnect();
    assert.equal(value, id);

    assert.equal((await new Hdfs(config).readFile(hdfsFile)).toString(), id);

    const cass2 = createCassandra(config);
    const rs = await cass2.execute(`SELECT id FROM ${keyspace}.t`);
    assert.deepEqual(
      rs.rows.map((r) => r.id),
      [id],
    );
    await cass2.execute(`DROP KEYSPACE ${keyspace}`);
    await cass2.shutdown();

    const pool2 = createPgPool(config);
    const pgRows = await pool2.query('SELECT id FROM lifecycle_test WHERE id = $1', [id]);
    assert.equal(pgRows.rowCount, 1);
    await pool2.end();

    const temporal2 = await connectTemporal(config);
    const desc = await temporal2.schedule.getHandle(scheduleId).describe();
    assert.equal(desc.scheduleId, scheduleId);
    await temporal2.schedule.getHandle(scheduleId).delete();
    await temporal2.connection.close();
  });

  it('up is idempotent: a second up starts nothing', async () => {
    const before = (await status()).json.services.map((s) => [s.name, s.pid]);
    const up = await logpipe(['up', '--detach', '--no-producer']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /everything was already running/);
    assert.deepEqual(
      (await status()).json.services.map((s) => [s.name, s.pid]),
      before,
    );
  });

  it('up starts again a server that died', async () => {
    const { json } = await status();
    const pgPid = json.services.find((s) => s.name === 'postgres')?.pid;
    assert.ok(pgPid);
    process.kill(pgPid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pgPid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        break;
      }
    }
    const up = await logpipe(['up', '--detach', '--no-producer']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /started: postgres/);
    const after = (await status()).json.services.find((s) => s.name === 'postgres');
    assert.equal(after?.state, 'up');
    assert.notEqual(after?.pid, pgPid);
  });
});

describe('the whole pipeline under ./logpipe up', () => {
  it('starts the streaming worker and a producer whose events reach Cassandra and HDFS; down stops them', async () => {
    const up = await logpipe(['up', '--detach']);
    assert.equal(up.code, 0, up.stderr);
    const { code, json } = await status();
    assert.equal(code, 0);
    for (const name of ['streaming-worker', 'producer']) {
      assert.equal(json.services.find((s) => s.name === name)?.state, 'up', `${name} up`);
    }
    const metricsUrl = json.services.find((s) => s.name === 'streaming-worker')?.url;
    assert.ok(metricsUrl);
    // The producer's gentle stream flows through the worker into both sinks.
    const written = async (sink: string) => {
      const text = await (await fetch(metricsUrl)).text();
      return Number(
        new RegExp(`logpipe_stream_written_total\\{sink="${sink}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
      );
    };
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && ((await written('cassandra')) === 0 || (await written('hdfs')) === 0)) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok((await written('cassandra')) > 0, 'events reached Cassandra');
    assert.ok((await written('hdfs')) > 0, 'events reached HDFS');

    const down = await logpipe(['down']);
    assert.equal(down.code, 0, down.stderr);
    const after = await status();
    for (const name of ['streaming-worker', 'producer', 'kafka']) {
      assert.equal(after.json.services.find((s) => s.name === name)?.state, 'down');
    }
    // Leave the stack up for whatever runs next.
    assert.equal((await logpipe(['stack', 'up', '--detach'])).code, 0);
  });
});
