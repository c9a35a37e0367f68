// pino loggers for long-running processes; CLI output to a person goes to stdout directly.
import { pino } from 'pino';
import { loadConfig } from './config.ts';

export function createLogger(name: string, level = loadConfig().LOG_LEVEL) {
  return pino({ name, level, base: { name, pid: process.pid } });
}
export type Logger = ReturnType<typeof createLogger>;
