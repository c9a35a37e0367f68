// pyarrow from PyPI, pinned, in a virtual environment of the cache: the tests' independent reader
// of the lake's Parquet files (logpipe's own reader would only show that the code agrees with
// itself). Installed on first use, into a temporary folder renamed into place, so two test files
// starting at once never share a half-made environment.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../lib/config.ts';
import { runLogged } from '../../stack/provision.ts';

const run = promisify(execFile);
export const PYARROW_VERSION = '26.0.1';

export interface ParquetAsRead {
  num_rows: number;
  row_groups: number;
  codecs: string[];
  schema: Record<string, string>;
  /** Top-level columns with min/max statistics in every row group. */
  with_stats: string[];
  rows: Record<string, unknown>[];
}

async function python(): Promise<string> {
  const home = join(loadConfig().LOGPIPE_CACHE_DIR, `pyarrow-${PYARROW_VERSION}`);
  const bin = join(home, 'bin', 'python');
  if (existsSync(join(home, '.ready'))) return bin;
  const tmp = `${home}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const log = `${home}-provision.log`;
  await runLogged('python3', ['-m', 'venv', tmp], log);
  await runLogged(
    join(tmp, 'bin', 'pip'),
    ['install', '--disable-pip-version-check', '-q', `pyarrow==${PYARROW_VERSION}`],
    log,
  );
  writeFileSync(join(tmp, '.ready'), '');
  try {
    renameSync(tmp, home);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test got there first
  }
  return bin;
}

/** A Parquet file's bytes as pyarrow reads them. */
export async function readWithPyarrow(bytes: Buffer): Promise<ParquetAsRead> {
  const bin = await python();
  const dir = mkdtempSync(join(tmpdir(), 'logpipe-parquet-'));
  try {
    const file = join(dir, 'hour.parquet');
    writeFileSync(file, bytes);
    const script = new URL('./read_parquet.py', import.meta.url).pathname;
    const { stdout } = await run(bin, [script, file], { maxBuffer: 1 << 30 });
    return JSON.parse(stdout) as ParquetAsRead;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
