// The batch worker's own entry point: only the worker's modules, no CLI, bundled by
// lib/worker-bundle.ts and run by plain node (no tsx loader in the process). A bad setting ends
// the process with the message that names it, as the CLI does.
import { ConfigError } from '../lib/config.ts';
import { errorMessage } from '../lib/errors.ts';
import { runBatchWorker } from './batch-worker.ts';

try {
  await runBatchWorker();
} catch (err) {
  process.stderr.write(`logpipe: ${errorMessage(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
