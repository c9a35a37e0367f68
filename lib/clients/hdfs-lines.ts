// The lines of an HDFS file a range at a time: memory holds one range (and one partial line), never
// the whole file. Ranges are cut at newline bytes, which no multi-byte UTF-8 character contains,
// so every line decodes whole.
export const LINE_RANGE_BYTES = 2 << 20;

/** What a range read needs: a file's size, and its bytes from an offset. */
export interface RangeReader {
  stat(path: string): Promise<{ length: number } | undefined>;
  readRange(path: string, offset: number, length: number): Promise<Buffer>;
}

/**
 * Yields the file's bytes a range at a time (about `rangeBytes` each), in order. Throws when the
 * file is missing or ends before the size it had when the read began.
 */
export async function* byteRanges(
  hdfs: RangeReader,
  path: string,
  rangeBytes = LINE_RANGE_BYTES,
): AsyncGenerator<Buffer> {
  const status = await hdfs.stat(path);
  if (!status) throw new Error(`HDFS file ${path} not found`);
  for (let offset = 0; offset < status.length; ) {
    const range = await hdfs.readRange(path, offset, Math.min(rangeBytes, status.length - offset));
    if (range.length === 0) throw new Error(`HDFS file ${path} ended at ${offset} of ${status.length} bytes`);
    offset += range.length;
    yield range;
  }
}

/**
 * Yields the file's lines in chunks of whole lines (about `rangeBytes` each), numbered by position:
 * empty lines are yielded too, so chunk i's lines keep their line numbers; a final newline does not
 * make an empty last line. Throws when the file is missing.
 */
export async function* lineChunks(
  hdfs: RangeReader,
  path: string,
  rangeBytes = LINE_RANGE_BYTES,
): AsyncGenerator<string[]> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const range of byteRanges(hdfs, path, rangeBytes)) {
    const bytes = carry.length ? Buffer.concat([carry, range]) : range;
    const cut = bytes.lastIndexOf(0x0a);
    if (cut < 0) {
      carry = bytes; // one line longer than a range: read on
      continue;
    }
    carry = bytes.subarray(cut + 1);
    yield bytes.toString('utf8', 0, cut).split('\n');
  }
  if (carry.length) yield [carry.toString('utf8')];
}

/** A whole text as one chunk, numbered the same way (for callers that hold the text already). */
export function textChunks(text: string): AsyncIterable<string[]> {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return (async function* () {
    if (lines.length) yield lines;
  })();
}
