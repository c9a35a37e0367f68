// The shape every local-stack component takes: provision once into the cache, then run one or
// more servers (HDFS has two) as child processes of the project.
import type { Config } from '../lib/config.ts';

export interface StackContext {
  config: Config;
  /** Data and logs of this checkout's stack (default .logpipe/). */
  dataDir: string;
  /** Versioned installs shared by every clone and by CI (default ~/.cache/logpipe). */
  cacheDir: string;
  progress: Progress;
}

export interface Progress {
  /** Runs one named step of a component's provisioning, showing it and its duration. */
  step<T>(component: string, what: string, logFile: string, fn: () => Promise<T>): Promise<T>;
  info(component: string, message: string): void;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
}

export interface ServiceDef {
  name: string;
  port?: number;
  url?: string;
  /** A word found in the process's command line: how a stale pid file is told from a live one. */
  processMarker: string;
  /** Signal that stops it cleanly and fast (PostgreSQL's SIGTERM waits for clients). */
  stopSignal?: NodeJS.Signals;
  /** How long a clean stop may take before SIGKILL. */
  stopTimeoutMs?: number;
  /** How long startup may take before it counts as failed. */
  startTimeoutMs?: number;
  /** Not started by every `up` (the producer): being down does not make status fail. */
  optional?: boolean;
  /** Services that must be ready before this one starts. */
  after?: string[];
  /** Writes configuration and does first-start work (formatting). Idempotent. */
  prepare(ctx: StackContext): Promise<LaunchSpec>;
  /** Whether it answers on its own protocol. */
  ready(ctx: StackContext): Promise<boolean>;
  /** Work after the first successful start (creating a database, ...). Idempotent. */
  afterStart?(ctx: StackContext): Promise<void>;
}

export interface StackComponent {
  name: string;
  version: string;
  /** Installs into the cache; a no-op when already there. */
  provision(ctx: StackContext): Promise<void>;
  services: ServiceDef[];
  /** Command-line tools it installs for users, by name: linked into the data directory's bin/. */
  tools(ctx: StackContext): Record<string, string>;
}
