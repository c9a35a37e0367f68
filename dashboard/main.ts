// `logpipe dashboard`: the dashboard in the foreground until SIGINT or SIGTERM.
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { startDashboard } from './server.ts';

export async function runDashboard(opts: { port?: number; host?: string } = {}): Promise<void> {
  const config = loadConfig();
  const log = createLogger('dashboard', config.LOG_LEVEL);
  const dashboard = await startDashboard(config, { ...opts, log });
  process.stderr.write(`dashboard: ${dashboard.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('stopping');
  await dashboard.close();
  // Timers of clients that were closed while reconnecting must not keep the process alive.
  process.exit(0);
}
