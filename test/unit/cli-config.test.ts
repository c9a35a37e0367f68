import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseExports } from '../../cli/env.ts';
import { repoRoot } from '../../lib/config.ts';
import { logpipe } from '../helpers/cli.ts';

describe('the logpipe command and its environment', () => {
  it('stops at startup on a bad setting, naming the variable and the expected form', async () => {
    const res = await logpipe(['env'], { ...process.env, PGPORT: 'five' });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /PGPORT="five": expected a port number/);
  });

  it('env prints export lines that round-trip through a shell', async () => {
    const env = {
      ...process.env,
      PGPASSWORD: "it's secret $HOME",
      KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.1:9094',
    };
    const res = await logpipe(['env'], env);
    assert.equal(res.code, 0, res.stderr);
    const parsed = parseExports(res.stdout);
    for (const key of [
      'KAFKA_BROKERS',
      'WEBHDFS_URL',
      'CASSANDRA_CONTACT_POINTS',
      'CASSANDRA_LOCAL_DC',
      'PGHOST',
      'PGPORT',
      'PGUSER',
      'PGPASSWORD',
      'PGDATABASE',
      'TEMPORAL_ADDRESS',
      'DBT_PROFILES_DIR',
    ]) {
      assert.ok(key in parsed, `${key} exported`);
    }
    // Evaluated by bash, the values come back exactly.
    const shellEnv = await new Promise<string>((resolve, reject) =>
      execFile(
        'bash',
        ['-c', `eval "$1"; env`, 'bash', res.stdout],
        { env: { PATH: process.env.PATH ?? '' } },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
    const lines = new Map(
      shellEnv.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(lines.get('PGPASSWORD'), "it's secret $HOME");
    assert.equal(lines.get('KAFKA_BROKERS'), '127.0.0.1:9092,127.0.0.1:9094');
    assert.ok(lines.get('PATH')?.startsWith(join(parsed.LOGPIPE_DATA_DIR ?? '', 'bin')));
    // Fed back to logpipe, the same values configure it: env output is a fixed point.
    const { PATH: _path, ...vars } = parsed;
    const again = await logpipe(['env'], { ...process.env, ...vars });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(parseExports(again.stdout), parsed);
  });

  it('prints help naming the commands', async () => {
    const res = await logpipe(['--help']);
    for (const cmd of ['stack', 'up', 'down', 'status', 'env', 'test', 'dbt'])
      assert.match(res.stdout, new RegExp(`\\b${cmd}\\b`));
    assert.ok(repoRoot);
  });
});
