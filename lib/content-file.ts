// A generated file named by a hash of its content, written once: two processes that generate the
// same content agree on one path, and a reader never sees a half-written file (tmp + rename).
// The worker bundles (lib/worker-bundle.ts) and the workflow bundle (lib/workflow-bundle.ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `contents` to `<dir>/<prefix><hash><suffix>` unless it is there; returns the path. */
export function writeNamedByContent(
  dir: string,
  prefix: string,
  suffix: string,
  contents: string | Uint8Array,
): string {
  const hash = createHash('sha256').update(contents).digest('hex').slice(0, 12);
  const path = join(dir, `${prefix}${hash}${suffix}`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, contents);
    renameSync(tmp, path);
  }
  return path;
}
