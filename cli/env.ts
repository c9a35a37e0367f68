// `logpipe env`: export lines that wire a shell to the running stack.
import type { Config } from '../lib/config.ts';

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:,@=+-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

export function envExports(config: Config, binDir: string): string {
  const vars: [string, string][] = [
    ['LOGPIPE_DATA_DIR', config.LOGPIPE_DATA_DIR],
    ['LOGPIPE_CACHE_DIR', config.LOGPIPE_CACHE_DIR],
    ['KAFKA_BROKERS', config.KAFKA_BROKERS.join(',')],
    ['WEBHDFS_URL', config.WEBHDFS_URL],
    ['HDFS_USER', config.HDFS_USER],
    ['HADOOP_USER_NAME', config.HDFS_USER],
    ['CASSANDRA_CONTACT_POINTS', config.CASSANDRA_CONTACT_POINTS.join(',')],
    ['CASSANDRA_LOCAL_DC', config.CASSANDRA_LOCAL_DC],
    ['PGHOST', config.PGHOST],
    ['PGPORT', String(config.PGPORT)],
    ['PGUSER', config.PGUSER],
    ['PGPASSWORD', config.PGPASSWORD],
    ['PGDATABASE', config.PGDATABASE],
    ['TEMPORAL_ADDRESS', config.TEMPORAL_ADDRESS],
    ['TEMPORAL_NAMESPACE', config.TEMPORAL_NAMESPACE],
    ['DBT_PROFILES_DIR', config.DBT_PROFILES_DIR],
  ];
  const lines = vars.map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  // Double quotes so that $PATH expands when the line is evaluated.
  lines.push(`export PATH="${binDir.replaceAll('"', '\\"')}:$PATH"`);
  return `${lines.join('\n')}\n`;
}

/** Reads `export K=V` lines back (the inverse of envExports, for tests and tools). */
export function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    let v = m[2];
    if (v.startsWith("'")) v = v.slice(1, -1).replaceAll(`'\\''`, "'");
    else if (v.startsWith('"')) v = v.slice(1, -1).replaceAll('\\"', '"');
    out[m[1]] = v;
  }
  return out;
}
