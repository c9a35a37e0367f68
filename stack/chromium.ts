// Chromium for the dashboard's browser tests, from Debian's `chromium` package (installed with
// apt-get when missing, like PostgreSQL): playwright-core drives it headless; nothing is downloaded
// from a browser CDN.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runLogged } from './provision.ts';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];

/** The Chromium binary: CHROMIUM_PATH when set, else Debian's. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** Installs Debian's chromium when it is missing (idempotent); returns the binary's path. */
export async function ensureChromium(cacheDir: string, say: (s: string) => void = () => {}): Promise<string> {
  const found = chromiumPath();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'Chromium is not installed: run `sudo apt-get install -y chromium` (Debian) and try again',
    );
  }
  const log = join(cacheDir, 'chromium-provision.log');
  say(`installing Debian's chromium package (log: ${log}) ...`);
  await runLogged('apt-get', ['update'], log);
  await runLogged('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], log, {
    env: { DEBIAN_FRONTEND: 'noninteractive' },
  });
  const path = chromiumPath();
  if (!path) throw new Error(`chromium installed, but no binary at ${CANDIDATES.join(', ')}; log: ${log}`);
  return path;
}
