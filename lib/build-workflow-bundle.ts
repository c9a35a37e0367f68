// The child process prebuiltWorkflowBundle (lib/workflow-bundle.ts) starts:
// `node --import tsx lib/build-workflow-bundle.ts <dir>` writes the bundle and prints its path.
import { writeWorkflowBundle } from './workflow-bundle.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: lib/build-workflow-bundle.ts <dir>');
process.stdout.write(`${await writeWorkflowBundle(dir)}\n`);
