// How much a Cassandra read scanned, from the server's own trace: the live rows and tombstone
// cells of each "Read N live rows and M tombstone cells" step. The streaming bench and the
// tombstone test both read their figures this way.
import type cassandraDriver from 'cassandra-driver';

export interface TracedRead {
  result: cassandraDriver.types.ResultSet;
  live: number;
  tombstones: number;
  /** Every step of the trace, to explain a read that found none. */
  activities: string[];
}

export async function tracedRead(
  client: cassandraDriver.Client,
  query: string,
  params: unknown[],
  fetchSize = 10_000,
): Promise<TracedRead> {
  const result = await client.execute(query, params, { prepare: true, fetchSize, traceQuery: true });
  const traceId = result.info.traceId;
  if (!traceId) throw new Error('Cassandra returned no trace id for a traced query');
  // The trace is written asynchronously; the driver's getTrace waits for it to be complete.
  const trace = await new Promise<{ events: { activity: string }[] }>((resolve, reject) =>
    client.metadata.getTrace(traceId, (err, t) => (err ? reject(err) : resolve(t as never))),
  );
  let live = 0;
  let tombstones = 0;
  for (const e of trace.events) {
    const m = /Read (\d+) live rows and (\d+) tombstone cells/.exec(e.activity);
    if (!m) continue;
    live += Number(m[1]);
    tombstones += Number(m[2]);
  }
  return { result, live, tombstones, activities: trace.events.map((e) => e.activity) };
}
