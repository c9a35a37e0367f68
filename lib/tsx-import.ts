// node's `--import` of tsx, to run a TypeScript file of the repository in a child process (the CLI,
// the test runner, the workflow bundler). A module of its own so that the batch worker, which
// starts the bundler, does not load what lib/node-args.ts imports (esbuild).
import { join } from 'node:path';
import { repoRoot } from './config.ts';

export const TSX_IMPORT = ['--import', `file://${join(repoRoot, 'node_modules/tsx/dist/loader.mjs')}`];
