// What a process costs, read from /proc: CPU time (user + system) and resident memory, and the
// pids of the stack's servers by their command line, so a bench can say where the CPU went.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports

/** CPU seconds the process has used so far (its own threads, not its children). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted from the state field at index 0.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** The live processes whose command line contains `marker`. */
export function pidsByCommand(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(marker) && Number(name) !== process.pid) pids.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** The stack's servers a streaming bench loads, by the class each JVM runs. */
export const SERVER_MARKERS = {
  kafka: 'kafka.Kafka',
  cassandra: 'CassandraDaemon',
  hdfs: 'org.apache.hadoop.hdfs.server.',
} as const;
export type ServerName = keyof typeof SERVER_MARKERS;

/** CPU seconds used so far by each server (all its processes: HDFS is a namenode and a datanode). */
export function serverCpu(): Record<ServerName, number> {
  const out = {} as Record<ServerName, number>;
  for (const [name, marker] of Object.entries(SERVER_MARKERS) as [ServerName, string][])
    out[name] = pidsByCommand(marker).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return out;
}
