// The streaming worker's CQL BATCH frames, written in one buffer. cassandra-driver encodes every
// bound value into a Buffer of its own, adds a 4-byte Buffer for its length, and concatenates them
// all: a 50-row batch of ~20 values a row is ~2,000 small Buffers. In bench stream that was about
// a third of the worker's CPU (V8 profile: BatchRequest.write 32% of samples, plus the garbage it
// leaves). Here a batch of prepared statements is measured, then written once, straight into the
// frame: text as UTF-8 in place, int, double and timestamp as their fixed-width bytes.
//
// Only the frame's bytes change; the driver still prepares, routes, retries and reads the
// responses. The layout is the BATCH request of the native protocol, v3 and v4 (Cassandra's
// doc/native_protocol_v4.spec, sections 2 and 4.1.7). Anything else (other protocol versions,
// tracing, a custom payload, unprepared statements) goes through the driver's own writer, and so
// does any value this writer has no fast path for: its bytes, or its error, are the driver's.
// A unit test compares the frames with the driver's, byte for byte.
import { createRequire } from 'node:module';
import cassandra from 'cassandra-driver';

const require = createRequire(import.meta.url);

interface Long {
  high: number;
  low: number;
}

interface BatchItem {
  queryId?: Buffer;
  meta?: { columns: { type: { code: number } }[] };
  params?: unknown[];
}

interface ExecutionOptions {
  isQueryTracing(): boolean;
  getCustomPayload(): unknown;
  getConsistency(): number;
  getSerialConsistency(): number | undefined;
}

interface Encoder {
  protocolVersion: number;
  encode(value: unknown, type: { code: number }): Buffer | null | typeof cassandra.types.unset;
}

export interface BatchRequestLike {
  queries: BatchItem[];
  options: ExecutionOptions;
  timestamp: Long | null | undefined;
  type: number;
  length?: number;
}

type Write = (this: BatchRequestLike, encoder: Encoder, streamId: number) => Buffer;

const { dataTypes } = cassandra.types;
const UNSET = cassandra.types.unset;
const OPCODE_BATCH = 0x0d;
const FLAG_SERIAL_CONSISTENCY = 0x10;
const FLAG_DEFAULT_TIMESTAMP = 0x20;
const HEADER_BYTES = 9;
const TWO_32 = 2 ** 32;
/** A statement whose values all take the fast path (shared: no array per statement). */
const NONE_SLOW: readonly unknown[] = [];

const isText = (code: number) =>
  code === dataTypes.varchar || code === dataTypes.text || code === dataTypes.ascii;

/**
 * The bytes of a value this writer encodes itself (its size without the 4-byte length), or -1
 * when the driver must encode it. null and unset have no bytes.
 */
function fastSize(value: unknown, code: number): number {
  // undefined is the driver's to map (to unset or null, by its encoding options).
  if (value === null || value === UNSET) return 0;
  if (typeof value === 'string') return isText(code) ? Buffer.byteLength(value, 'utf8') : -1;
  if (typeof value === 'number') {
    if (code === dataTypes.double) return 8;
    if (code === dataTypes.int)
      return Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 ? 4 : -1;
    return -1;
  }
  if (value instanceof Date) return code === dataTypes.timestamp && !Number.isNaN(value.getTime()) ? 8 : -1;
  if (Buffer.isBuffer(value)) return value.length;
  return -1;
}

/** The frame of a batch of prepared statements, or undefined when the driver's writer must do it. */
export function batchFrame(
  request: BatchRequestLike,
  encoder: Encoder,
  streamId: number,
): Buffer | undefined {
  const version = encoder.protocolVersion;
  const { options, queries } = request;
  if (version !== 3 && version !== 4) return undefined;
  if (options.isQueryTracing() || options.getCustomPayload() || !queries?.length) return undefined;
  // Pass 1: sizes. A value only the driver can encode is encoded now and kept for pass 2.
  let body = 1 + 2;
  const encoded: (readonly unknown[])[] = [];
  for (const item of queries) {
    if (!item.queryId || !item.meta) return undefined;
    const params = item.params ?? [];
    const columns = item.meta.columns;
    body += 1 + 2 + item.queryId.length + 2;
    let slow: unknown[] | undefined;
    for (let i = 0; i < params.length; i++) {
      const type = columns[i]?.type;
      if (!type) return undefined;
      const v = params[i];
      let size = fastSize(v, type.code);
      if (size < 0) {
        const b = encoder.encode(v, type);
        slow ??= [];
        slow[i] = b;
        size = Buffer.isBuffer(b) ? b.length : 0;
      }
      body += 4 + size;
    }
    encoded.push(slow ?? NONE_SLOW);
  }
  const serial = options.getSerialConsistency();
  const timestamp = request.timestamp;
  body += 2 + 1 + (serial ? 2 : 0) + (timestamp != null ? 8 : 0);

  // Pass 2: the frame.
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body);
  frame[0] = version;
  frame[1] = 0;
  frame.writeInt16BE(streamId, 2);
  frame[4] = OPCODE_BATCH;
  frame.writeInt32BE(body, 5);
  let at = HEADER_BYTES;
  frame[at++] = request.type;
  at = frame.writeUInt16BE(queries.length, at);
  for (let q = 0; q < queries.length; q++) {
    const item = queries[q] as BatchItem;
    const id = item.queryId as Buffer;
    const params = item.params ?? [];
    const columns = (item.meta as NonNullable<BatchItem['meta']>).columns;
    const slow = encoded[q] as readonly unknown[];
    frame[at++] = 1; // a prepared statement
    at = frame.writeUInt16BE(id.length, at);
    at += id.copy(frame, at);
    at = frame.writeUInt16BE(params.length, at);
    for (let i = 0; i < params.length; i++) {
      const v = params[i];
      const code = (columns[i] as { type: { code: number } }).type.code;
      if (i in slow) {
        const b = slow[i];
        if (Buffer.isBuffer(b)) {
          at = frame.writeInt32BE(b.length, at);
          at += b.copy(frame, at);
        } else at = frame.writeInt32BE(b === UNSET ? -2 : -1, at);
      } else if (v === null) {
        at = frame.writeInt32BE(-1, at);
      } else if (v === UNSET) {
        at = frame.writeInt32BE(-2, at);
      } else if (typeof v === 'string') {
        const n = frame.write(v, at + 4, 'utf8');
        frame.writeInt32BE(n, at);
        at += 4 + n;
      } else if (typeof v === 'number') {
        if (code === dataTypes.double) {
          at = frame.writeInt32BE(8, at);
          at = frame.writeDoubleBE(v, at);
        } else {
          at = frame.writeInt32BE(4, at);
          at = frame.writeInt32BE(v, at);
        }
      } else if (v instanceof Date) {
        const ms = v.getTime();
        const high = Math.floor(ms / TWO_32);
        at = frame.writeInt32BE(8, at);
        at = frame.writeInt32BE(high, at);
        at = frame.writeUInt32BE(ms - high * TWO_32, at);
      } else {
        const b = v as Buffer;
        at = frame.writeInt32BE(b.length, at);
        at += b.copy(frame, at);
      }
    }
  }
  at = frame.writeUInt16BE(options.getConsistency(), at);
  frame[at++] = (serial ? FLAG_SERIAL_CONSISTENCY : 0) | (timestamp != null ? FLAG_DEFAULT_TIMESTAMP : 0);
  if (serial) at = frame.writeUInt16BE(serial, at);
  if (timestamp != null) {
    at = frame.writeInt32BE(timestamp.high, at);
    at = frame.writeInt32BE(timestamp.low, at);
  }
  if (at !== frame.length) throw new Error(`batch frame: wrote ${at} of ${frame.length} bytes`);
  request.length = body;
  written++;
  return frame;
}

let written = 0;
/** Batch frames batchFrame has written in this process (the tests check that the sink uses it). */
export const batchFramesWritten = () => written;

/** The driver's BatchRequest class (its requests module is not part of the typed API). */
export const DriverBatchRequest = (
  require('cassandra-driver/lib/requests.js') as { BatchRequest: { prototype: { write: Write } } }
).BatchRequest;

let driverWrite: Write | undefined;

/** Makes the driver write batch frames with batchFrame (once per process; idempotent). */
export function installBatchFrames(): void {
  if (driverWrite) return;
  const original = DriverBatchRequest.prototype.write;
  driverWrite = original;
  DriverBatchRequest.prototype.write = function write(
    this: BatchRequestLike,
    encoder: Encoder,
    streamId: number,
  ) {
    return batchFrame(this, encoder, streamId) ?? original.call(this, encoder, streamId);
  };
}

/** The driver's own writer (for the tests that compare the two). */
export const driverBatchWrite = (): Write => driverWrite ?? DriverBatchRequest.prototype.write;
