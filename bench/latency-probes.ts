// The latency bench's reads of its probes: one prepared `IN` read per hour partition per poll,
// instead of one read per probe, so the harness's own load on Cassandra (which shares the two
// cores with the worker it measures) stays small.

/** A probe the reader still waits for: its event id and the `timestamp` it is stored under. */
export interface PendingProbe {
  id: string;
  at: Date;
}

/** One read: the rows of one (day, hour) partition with these (timestamp, event_id) keys. */
export interface ProbeRead {
  day: string;
  hour: number;
  keys: { at: Date; id: string }[];
}

/** Keys per read: small multi-key reads, each answered by one replica's slice of one partition. */
export const PROBES_PER_READ = 64;

export const PROBE_READ_CQL = (keys: number) =>
  `SELECT event_id, ingested_at FROM ecomm_log WHERE day = ? AND hour = ? AND (timestamp, event_id) IN (${Array(keys).fill('(?, ?)').join(', ')})`;

/** The pending probes grouped by their hour partition, at most PROBES_PER_READ keys per read. */
export function probeReads(pending: Iterable<PendingProbe>, perRead = PROBES_PER_READ): ProbeRead[] {
  const byHour = new Map<string, ProbeRead[]>();
  for (const p of pending) {
    const day = p.at.toISOString().slice(0, 10);
    const hour = p.at.getUTCHours();
    const reads = byHour.get(`${day}T${hour}`) ?? [];
    if (!reads.length) byHour.set(`${day}T${hour}`, reads);
    let last = reads.at(-1);
    if (!last || last.keys.length >= perRead) {
      last = { day, hour, keys: [] };
      reads.push(last);
    }
    last.keys.push({ at: p.at, id: p.id });
  }
  return [...byHour.values()].flat();
}

/** A read's bound values, in the order of PROBE_READ_CQL. */
export const probeReadParams = (r: ProbeRead): unknown[] => [
  r.day,
  r.hour,
  ...r.keys.flatMap((k) => [k.at, k.id]),
];
