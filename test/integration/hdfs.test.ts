import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Hdfs } from '../../lib/clients/hdfs.ts';
import { loadConfig } from '../../lib/config.ts';

describe('HDFS (real NameNode and DataNode, WebHDFS)', () => {
  const config = loadConfig();
  const hdfs = new Hdfs(config);
  const dir = `/logpipe-test/${randomUUID()}`;
  after(() => hdfs.remove(dir, true).catch(() => {}));

  it('creates, appends and reads a file through the DataNode redirect', async () => {
    const file = `${dir}/a.ndjson`;
    await hdfs.writeFile(file, '{"n":1}\n');
    await hdfs.appendFile(file, '{"n":2}\n');
    const text = (await hdfs.readFile(file)).toString('utf8');
    assert.equal(text, '{"n":1}\n{"n":2}\n');
    const status = await hdfs.stat(file);
    assert.equal(status?.type, 'FILE');
    assert.equal(status?.length, Buffer.byteLength(text));
  });

  it('the NameNode answers with a redirect to the DataNode for writes', async () => {
    const res = await fetch(
      `${config.WEBHDFS_URL}/webhdfs/v1${dir}/redirect.txt?op=CREATE&user.name=${config.HDFS_USER}`,
      {
        method: 'PUT',
        redirect: 'manual',
      },
    );
    assert.equal(res.status, 307);
    assert.match(res.headers.get('location') ?? '', /^http:\/\/127\.0\.0\.1:9864\/webhdfs\/v1\//);
  });

  it('renames atomically and lists a folder', async () => {
    await hdfs.writeFile(`${dir}/tmp/b.tmp`, 'x');
    await hdfs.mkdirs(`${dir}/final`);
    await hdfs.rename(`${dir}/tmp/b.tmp`, `${dir}/final/b.ndjson`);
    const names = (await hdfs.list(`${dir}/final`)).map((f) => f.pathSuffix);
    assert.deepEqual(names, ['b.ndjson']);
    assert.equal(await hdfs.stat(`${dir}/tmp/b.tmp`), undefined);
  });

  it('serves the NameNode web UI', async () => {
    const res = await fetch(`${config.WEBHDFS_URL}/dfshealth.html`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Namenode information|dfshealth/i);
  });
});
