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
  pageState?: string,
): Promise<TracedRead> {
  const result = await client.execute(query, params, {
    prepare: true,
    fetchSize,
    traceQuery: true,
    pageState,
  });
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

/**
 * A whole partition read page by page, each page traced: the sums over every page. A single
 * request (or a count(*)) over a partition of a million rows runs into the server's read timeout.
 */
export async function tracedScan(
  client: cassandraDriver.Client,
  query: string,
  params: unknown[],
  pageSize = 20_000,
): Promise<{ pages: number; rows: number; live: number; tombstones: number }> {
  let pageState: string | undefined;
  const sum = { pages: 0, rows: 0, live: 0, tombstones: 0 };
  do {
    const read = await tracedRead(client, query, params, pageSize, pageState);
    sum.pages++;
    sum.rows += read.result.rowLength;
    sum.live += read.live;
    sum.tombstones += read.tombstones;
    pageState = read.result.pageState ?? undefined;
  } while (pageState);
  return sum;
}
