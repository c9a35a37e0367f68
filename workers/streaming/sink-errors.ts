// Which sink errors can succeed later and which are about the message itself. A server that is
// down, overloaded or slow is retried while the partition waits; a value the server refuses for
// what it holds would be refused forever, so its message is dead-lettered (sink_rejected) and the
// partition moves on. Pure: the classification is unit-tested on the drivers' own error classes.
import cassandraDriver from 'cassandra-driver';

const { errors, types } = cassandraDriver;
const codes = types.responseErrorCodes;

/** Errors a driver wraps: kafkajs keeps the broker's error in `cause`/`originalError`, batches in `errors`. */
function* chain(err: unknown, depth = 0): Generator<unknown> {
  if (!err || depth > 5) return;
  yield err;
  const e = err as { cause?: unknown; originalError?: unknown; errors?: unknown[] };
  yield* chain(e.cause, depth + 1);
  yield* chain(e.originalError, depth + 1);
  for (const inner of e.errors ?? []) yield* chain(inner, depth + 1);
}

// "Invalid" answers that name the schema, not the row: a missing keyspace or table is fixed by
// whoever runs the stack (the worker creates them at start), so those are waited for.
const SCHEMA_PROBLEM = /unconfigured table|keyspace .* does not exist|undefined column|unknown identifier/i;

/**
 * Whether Cassandra refused a write because of the values it carried: the coordinator's Invalid
 * answer (a partition key over 64 KiB, a mutation over the commit log's limit) or the driver's
 * own encoding errors (a number that does not fit its column type) thrown before anything is sent.
 */
export function cassandraRejectsContent(err: unknown): boolean {
  if (err instanceof errors.ResponseError)
    return err.code === codes.invalid && !SCHEMA_PROBLEM.test(err.message);
  if (err instanceof errors.DriverError) return false; // no host, timeout, busy pool: the server side
  return err instanceof RangeError || err instanceof TypeError;
}

const KAFKA_CONTENT_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/** The broker's refusal of a record for its size or form, found anywhere in the error's chain. */
export function kafkaRejectsContent(err: unknown): string | undefined {
  for (const e of chain(err)) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && KAFKA_CONTENT_ERRORS.has(type)) return type;
  }
  return undefined;
}

/** The message a server gave, without the stack, bounded to fit a Kafka header. */
export function serverMessage(err: unknown, max = 500): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
