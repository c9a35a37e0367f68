// The shape of a reconciliation report of one event hour: what `logpipe reconcile --json` prints,
// what the batch records in its ledger and what the dashboard shows (activities/reconcile/ makes it).

export interface StoreCounts {
  /** Events in the hour's HDFS files (raw and compacted), each once. */
  hdfs: number;
  /** Rows of the hour's ecomm_log partition, each (event_type, event_id) once. */
  cassandra: number;
  /** Rows of the five raw tables whose timestamp falls in the hour. */
  postgres: number;
  /** Rows of fact_events of the hour. */
  marts: number;
  /** Messages dead-lettered during the hour (by the time they were dead-lettered), each once. */
  dead_letters: number;
  /** Lines of the hour's loaded files kept in raw.rejected_lines instead of a raw table. */
  quarantined: number;
}

export interface HourReport {
  /** `YYYY-MM-DDTHH` (UTC). */
  hour: string;
  /** The hour ended (plus the compaction grace) and its raw files are compacted: no event can still arrive. */
  closed: boolean;
  counts: StoreCounts;
  /** Per store, the events HDFS has and the store lacks (negative: the store has more). */
  drift: { cassandra: number; postgres: number; marts: number };
}
