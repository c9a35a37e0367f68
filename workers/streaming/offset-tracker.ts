// One partition's offsets, no I/O: what HDFS held already when the partition was taken over (the
// floor, from the marker), what both Cassandra and the DLQ hold (processed), and what Kafka has
// committed. Exactly once: a commit only ever names an end that HDFS holds too, so it is taken
// from processedEnd when a roll starts and recorded once that roll is in HDFS.

/** The offset Kafka is told to resume from after `end`: the next one. */
export const commitOffsetAfter = (end: bigint): string => (end + 1n).toString();

export class OffsetTracker {
  /** Offsets at or below this are already in HDFS (and so in Cassandra): -1 when nothing is. */
  private floorEnd = -1n;
  private processed: bigint | undefined;
  private committed: bigint | undefined;

  get floor(): bigint {
    return this.floorEnd;
  }
  /** The last offset the sinks before HDFS hold, not yet necessarily committed. */
  get processedEnd(): bigint | undefined {
    return this.processed;
  }
  get committedEnd(): bigint | undefined {
    return this.committed;
  }

  /** The last offset HDFS held when the partition was recovered. */
  recovered(end: bigint): void {
    this.floorEnd = end;
  }

  /** A message at this offset was written before a crash: it is skipped, not written again. */
  alreadyStored(offset: bigint): boolean {
    return offset <= this.floorEnd;
  }

  /** Everything up to `end` is in Cassandra and the DLQ. Ends only move forward. */
  processedTo(end: bigint): void {
    if (this.processed === undefined || end > this.processed) this.processed = end;
  }

  /**
   * The end a roll started now would commit once HDFS holds its lines: the processed end, or
   * undefined when that is committed already (or nothing was processed).
   */
  uncommittedEnd(): bigint | undefined {
    return this.processed === this.committed ? undefined : this.processed;
  }

  /** Kafka has committed up to `end` (a roll's end, from uncommittedEnd()). */
  committedTo(end: bigint): void {
    if (this.committed === undefined || end > this.committed) this.committed = end;
  }
}
