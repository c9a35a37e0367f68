// Where produced messages come from: the generator, or an NDJSON file sent line by line as is
// (malformed lines included), so real logs can be replayed.
import { createReadStream } from 'node:fs';
import { EventGenerator, type GeneratorOptions } from './generator.ts';
import type { OutgoingMessage } from './publisher.ts';

export function* generatedMessages(
  options: GeneratorOptions,
  count = Number.POSITIVE_INFINITY,
): Generator<OutgoingMessage> {
  const gen = new EventGenerator(options);
  for (let i = 0; i < count; i++) {
    const e = gen.next();
    yield { key: e.session_id, value: JSON.stringify(e) };
  }
}

/** The session id of a line when it has one, so replayed sessions stay on one partition. */
function keyOf(line: Buffer): string | null {
  try {
    const v = JSON.parse(line.toString('utf8')) as { session_id?: unknown };
    return typeof v.session_id === 'string' ? v.session_id : null;
  } catch {
    return null;
  }
}

/** Every non-empty line of a file, as raw bytes (invalid UTF-8 is sent unchanged). */
export async function* fileMessages(path: string): AsyncGenerator<OutgoingMessage> {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(path)) {
    let buf = Buffer.concat([rest, chunk as Buffer]);
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a)) {
      const line = buf.subarray(0, nl);
      buf = buf.subarray(nl + 1);
      if (line.length && !(line.length === 1 && line[0] === 0x0d))
        yield { key: keyOf(line), value: Buffer.from(line) };
    }
    rest = buf;
  }
  if (rest.length) yield { key: keyOf(rest), value: rest };
}
