// The single-page app's files: web/main.ts bundled with esbuild (ECharts and the world-atlas
// geometry included, so the browser fetches nothing from elsewhere), kept in memory.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const webDir = join(dirname(fileURLToPath(import.meta.url)), 'web');

export interface Assets {
  files: Map<string, { type: string; body: Buffer }>;
}

export async function buildAssets(): Promise<Assets> {
  const out = await build({
    entryPoints: [join(webDir, 'main.ts')],
    bundle: true,
    minify: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    outfile: 'app.js',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'));
  if (!js) throw new Error('esbuild produced no app.js');
  const files = new Map<string, { type: string; body: Buffer }>();
  files.set('/index.html', {
    type: 'text/html; charset=utf-8',
    body: readFileSync(join(webDir, 'index.html')),
  });
  files.set('/app.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(webDir, 'app.css')) });
  files.set('/app.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(js.contents) });
  return { files };
}
