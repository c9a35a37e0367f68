// One partition's raw lines waiting for their roll into HDFS: no I/O, only the lines, their bytes
// and when the oldest of them arrived, which decide when a roll is due.
import type { PendingLine } from './raw-layout.ts';

export interface RollLimits {
  maxEvents: number;
  maxBytes: number;
}

export class PartitionBuffer {
  private lines: PendingLine[] = [];
  private bytes = 0;
  /** When the buffer last went from empty to holding a line (ms since the epoch). */
  private firstAt = 0;

  get length(): number {
    return this.lines.length;
  }

  /** Bytes of the buffered lines as stored in HDFS, each with its newline. */
  get pendingBytes(): number {
    return this.bytes;
  }

  add(lines: readonly PendingLine[], now: number): void {
    if (!this.lines.length && lines.length) this.firstAt = now;
    for (const l of lines) {
      this.lines.push(l);
      this.bytes += l.line.length + 1;
    }
  }

  /** Everything buffered, for one roll; the buffer is empty after. */
  takeRoll(): PendingLine[] {
    const roll = this.lines;
    this.lines = [];
    this.bytes = 0;
    return roll;
  }

  /**
   * Due on this partition's own clock: a slot boundary (`phaseMs` + k·`maxAgeMs` since the epoch)
   * passed since the oldest line arrived. No line waits longer than `maxAgeMs`, a busy partition
   * still rolls once per `maxAgeMs`, and partitions with spread phases roll at different moments
   * instead of all in the same tick (each roll is a burst of NameNode and DataNode work).
   * Boundaries before `quietUntil` do not count (the oldest line then waits its full age): a worker
   * that just started rolls nothing before half an interval, as with rolls by age alone.
   */
  dueBySlot(now: number, maxAgeMs: number, phaseMs: number, quietUntil = 0): boolean {
    if (!this.lines.length) return false;
    if (maxAgeMs <= 0 || now - this.firstAt >= maxAgeMs) return true;
    // The last boundary at or before `now`; due when it falls after the oldest line arrived.
    const last = phaseMs + Math.floor((now - phaseMs) / maxAgeMs) * maxAgeMs;
    return last > this.firstAt && last >= quietUntil;
  }

  /** Holds `times` rolls' worth, by count or by bytes. */
  holds(limits: RollLimits, times = 1): boolean {
    return this.lines.length >= times * limits.maxEvents || this.bytes >= times * limits.maxBytes;
  }
}
