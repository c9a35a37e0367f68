import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../lib/config.ts';

const ESC = String.fromCharCode(27);
const stripAnsi = (s: string) => s.replaceAll(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

describe('dbt (real dbt-postgres against the stack)', () => {
  it('dbt debug passes from any directory, with the profile read from the environment', async () => {
    const out = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(
        join(repoRoot, 'logpipe'),
        ['dbt', 'debug'],
        { cwd: tmpdir(), timeout: 180_000 },
        (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout: stripAnsi(stdout) }),
      ),
    );
    assert.equal(out.code, 0, out.stdout);
    assert.match(out.stdout, /Connection test: \[OK connection ok\]/);
    assert.match(out.stdout, /All checks passed!/);
  });

  it('dbt debug fails clearly when the password is wrong', async () => {
    const out = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(
        join(repoRoot, 'logpipe'),
        ['dbt', 'debug'],
        { env: { ...process.env, PGPASSWORD: 'wrong' }, timeout: 180_000 },
        (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout: stripAnsi(stdout) }),
      ),
    );
    assert.notEqual(out.code, 0);
    assert.match(out.stdout, /password authentication failed|Connection test: \[ERROR\]/);
  });
});
