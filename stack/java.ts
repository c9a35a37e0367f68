// Launching JVM servers and tools from a folder of jars.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function classpath(...entries: string[]): string {
  return entries.join(':');
}

export function jarsIn(libs: string): string {
  return join(libs, '*');
}

/** Writes small shell wrappers (e.g. kafka-topics.sh) that run a Java main class with the jars. */
export function writeJavaWrappers(
  binDir: string,
  cp: string,
  tools: Record<string, string>,
  jvmOptions: string[] = [],
): void {
  mkdirSync(binDir, { recursive: true });
  for (const [name, mainClass] of Object.entries(tools)) {
    const file = join(binDir, name);
    writeFileSync(
      file,
      `#!/usr/bin/env bash\n# Written by logpipe's local stack.\nexec java ${jvmOptions.join(' ')} -cp "${cp}" ${mainClass} "$@"\n`,
    );
    chmodSync(file, 0o755);
  }
}
