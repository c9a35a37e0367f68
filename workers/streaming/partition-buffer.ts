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
   */
  dueBySlot(now: number, maxAgeMs: number, phaseMs: number): boolean {
    if (!this.lines.length) return false;
    if (maxAgeMs <= 0) return true;
    const slot = (t: number) => Math.floor((t - phaseMs) / maxAgeMs);
    return slot(now) > slot(this.firstAt);
  }

  /** Holds `times` rolls' worth, by count or by bytes. */
  holds(limits: RollLimits, times = 1): boolean {
    return this.lines.length >= times * limits.maxEvents || this.bytes >= times * limits.maxBytes;
  }
}
