// The machine a benchmark ran on, for bench/REPORT.md: hardware, OS, runtimes, and the versions of
// the stack's components as the stack pins them (stack/*.ts, lib/dbt.ts), not copied here.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, machine, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { DBT_CORE_VERSION, DBT_POSTGRES_VERSION } from '../lib/dbt.ts';
import { cassandra } from '../stack/cassandra.ts';
import { hdfs } from '../stack/hdfs.ts';
import { kafka } from '../stack/kafka.ts';
import { postgres, postgresBinDir } from '../stack/postgres.ts';
import { TEMPORAL_CLI_VERSION } from '../stack/temporal.ts';
import type { MachineInfo } from './report.ts';

/** stdout and stderr of a short command (`java -version` writes to stderr); undefined if it cannot run. */
function output(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  return r.error ? undefined : `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/** `openjdk 17.0.15` from `java -version` (the stack's JVM servers run the `java` on PATH). */
function javaVersion(): string {
  const out = output('java', ['-version']);
  if (out === undefined) return 'not found';
  const m = /^(\S+) version "([^"]+)"/m.exec(out);
  return m ? `${m[1]} ${m[2]}` : out.split('\n')[0]?.trim() || 'unknown';
}

/** The Debian package's server version (the stack pins "debian", not a number), e.g. 15.14. */
function postgresVersion(): string {
  const bin = postgresBinDir();
  const out = bin ? output(join(bin, 'postgres'), ['--version']) : undefined;
  const m = out ? /\(PostgreSQL\)\s+(\S+)/.exec(out) : null;
  return m?.[1] ? `${m[1]} (${postgres.version} package)` : `${postgres.version} package, not installed`;
}

function osName(): string {
  const file = '/etc/os-release';
  if (existsSync(file)) {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync(file, 'utf8'));
    if (m?.[1]) return m[1];
  }
  return type();
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cpu_model: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    ram_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    kernel: `${type()} ${release()} ${machine()}`,
    node: process.versions.node,
    java: javaVersion(),
    load_average: loadavg().map((l) => Math.round(l * 100) / 100),
    stack: {
      kafka: kafka.version,
      cassandra: cassandra.version,
      hdfs: hdfs.version,
      postgresql: postgresVersion(),
      temporal_cli: TEMPORAL_CLI_VERSION,
      dbt_core: DBT_CORE_VERSION,
      dbt_postgres: DBT_POSTGRES_VERSION,
    },
  };
}
