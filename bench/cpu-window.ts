// How busy the machine's cores were during a stretch of a bench, and how much of it was a given set
// of processes: samples of /proc/stat (all CPUs) and of the processes' own CPU time, twice a second,
// cut afterwards to a window the workflow reports (a step's start and length). It says whether a
// step had spare cores that a second worker process could have used.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { cpuSeconds } from './proc.ts';

interface Sample {
  at: number;
  /** Jiffies of all CPUs: busy (this VM's own work), stolen (the hypervisor ran another), total. */
  busy: number;
  steal: number;
  total: number;
  /** CPU seconds of the watched processes, summed. */
  watched: number;
}

export interface CpuWindow {
  /** Seconds between the first and the last sample inside the window. */
  seconds: number;
  /** Cores busy on average (all processes), of `cores`. */
  cores_busy: number;
  cores: number;
  /** Cores' worth of time the hypervisor gave to other guests (steal): neither busy nor spare. */
  cores_stolen: number;
  /** Cores the watched processes (the batch workers) used on average. */
  watched_cores: number;
}

function machineJiffies(): { busy: number; steal: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is in user already)
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const steal = f[7] ?? 0;
  return { busy: total - idle - steal, steal, total };
}

export class CpuSampler {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => number[],
    everyMs = 500,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const watched = this.pids().reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0);
    this.samples.push({ at: Date.now(), ...machineJiffies(), watched });
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** The averages between `from` and `to` (epoch ms); null when fewer than two samples fall in it. */
  window(from: number, to: number): CpuWindow | null {
    const inside = this.samples.filter((s) => s.at >= from && s.at <= to);
    const first = inside[0];
    const last = inside[inside.length - 1];
    if (!first || !last || first === last) return null;
    const cores = cpus().length;
    const seconds = (last.at - first.at) / 1000;
    const total = Math.max(1, last.total - first.total);
    const share = (last.busy - first.busy) / total;
    const round2 = (x: number) => Math.round(x * 100) / 100;
    return {
      seconds: round2(seconds),
      cores_busy: round2(share * cores),
      cores,
      cores_stolen: round2(((last.steal - first.steal) / total) * cores),
      watched_cores: round2((last.watched - first.watched) / seconds),
    };
  }
}
