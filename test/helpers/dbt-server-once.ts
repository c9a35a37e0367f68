// A process that runs one dbt command on a DbtServer and never stops it: it must stay alive
// through the command and exit by itself after (dbt-server.test.ts). An idle runner that held
// the event loop kept every test file with a batch worker from ending.
import { join } from 'node:path';
import { loadConfig } from '../../lib/config.ts';
import { dbtEnv, dbtPython } from '../../lib/dbt.ts';
import { DbtServer } from '../../lib/dbt-server.ts';

const dir = process.argv[2] ?? '/tmp/logpipe-dbt-server-once';
const config = loadConfig();
const server = new DbtServer(dbtPython(config.LOGPIPE_CACHE_DIR));
const reply = await server.run(['ls', '--resource-type', 'model', '--output', 'name', '--quiet'], {
  ...dbtEnv(config, { targetPath: join(dir, 'target'), logPath: join(dir, 'logs') }),
});
process.stdout.write(
  `${JSON.stringify({ exitCode: reply.exitCode, pid: server.pid, models: reply.output })}\n`,
);
