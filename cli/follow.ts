// Foreground mode of `up`: print the new lines of each process's log, prefixed by its name,
// until Ctrl-C.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export function followLogs(
  files: Record<string, string>,
  out: NodeJS.WritableStream = process.stdout,
): () => void {
  const offsets = new Map<string, number>();
  for (const file of Object.values(files)) {
    try {
      offsets.set(file, statSync(file).size);
    } catch {
      offsets.set(file, 0);
    }
  }
  const partial = new Map<string, string>();
  const timer = setInterval(() => {
    for (const [name, file] of Object.entries(files)) {
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        continue;
      }
      const from = offsets.get(file) ?? 0;
      if (size < from) offsets.set(file, 0); // truncated
      if (size <= from) continue;
      const buf = Buffer.alloc(Math.min(size - from, 1 << 20));
      const fd = openSync(file, 'r');
      const n = readSync(fd, buf, 0, buf.length, from);
      closeSync(fd);
      offsets.set(file, from + n);
      const text = (partial.get(file) ?? '') + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      partial.set(file, lines.pop() ?? '');
      for (const line of lines) out.write(`${name.padEnd(16)}| ${line}\n`);
    }
  }, 300);
  return () => clearInterval(timer);
}
