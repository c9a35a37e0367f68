// Background processes with pid files: start detached with output to a log file, tell a live
// process from a stale pid file, stop with a signal and SIGKILL as the last resort.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LaunchSpec } from './types.ts';

export interface PidRecord {
  pid: number;
  marker: string;
  startedAt: string;
  /** The process's start time in clock ticks since boot (/proc/PID/stat): unchanged by exec. */
  startTicks?: number;
}

export function readPidFile(pidFile: string): PidRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
    return Number.isInteger(rec.pid) && rec.pid > 0 ? rec : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie has exited but still answers kill(0).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

/** Start time of a process in ticks since boot; with the pid, it names one process for good. */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** The pid of the live process behind pidFile, or undefined; removes a stale pid file. */
export function runningPid(pidFile: string): number | undefined {
  const rec = readPidFile(pidFile);
  if (!rec) {
    if (existsSync(pidFile)) rmSync(pidFile, { force: true });
    return undefined;
  }
  // The pid may have been reused by an unrelated process after a reboot or a crash.
  if (isAlive(rec.pid) && rec.startTicks !== undefined && startTicks(rec.pid) === rec.startTicks)
    return rec.pid;
  rmSync(pidFile, { force: true });
  return undefined;
}

export function startDetached(spec: LaunchSpec, logFile: string, pidFile: string, marker: string): number {
  mkdirSync(dirname(logFile), { recursive: true });
  mkdirSync(dirname(pidFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', fd, fd],
      uid: spec.uid,
      gid: spec.gid,
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    const rec: PidRecord = {
      pid: child.pid,
      marker,
      startedAt: new Date().toISOString(),
      startTicks: startTicks(child.pid),
    };
    writeFileSync(pidFile, `${JSON.stringify(rec)}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Stops the process group led by pid; true when it had to be killed. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  send(signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    await sleep(200);
  }
  send('SIGKILL');
  while (isAlive(pid)) await sleep(100);
  return true;
}

export function tailFile(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log)';
  }
}
