// The long-lived dbt runner (lib/dbt_server.py) seen from Node: started on first use, one command
// at a time (dbt's state is per process), its console output kept for the caller's error tail. A
// runner that dies (killed, crashed, cancelled mid-command) fails the command it was running and
// is started afresh by the next one.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { repoRoot } from './config.ts';

export interface DbtServerReply {
  exitCode: number;
  /** Whether the command parsed the project first (the first one, or a changed project or env). */
  parsed: boolean;
  error: string | null;
  /** The console lines dbt printed for this command. */
  output: string[];
}

interface Pending {
  id: number;
  resolve: (r: DbtServerReply) => void;
  reject: (e: Error) => void;
  output: string[];
}

const SERVER_SCRIPT = join(repoRoot, 'lib', 'dbt_server.py');
/** Console lines kept per command: the caller shows the last few. */
const KEEP_LINES = 200;

export class DbtServer {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private current: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private exited: Error | undefined;

  constructor(private readonly python: string) {}

  /** The runner's pid while it runs (tests kill it to prove a restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Runs one dbt command (its arguments after `dbt`) with `env`; queued behind any running one. */
  run(args: string[], env: Record<string, string>, signal?: AbortSignal): Promise<DbtServerReply> {
    const next = this.queue.then(() => this.runNow(args, env, signal));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Holds the event loop only while a command runs: an idle runner must not keep its worker's
   * process (or a test file) alive after everything else has stopped.
   */
  private hold(on: boolean): void {
    const child = this.child;
    if (!child) return;
    const handles = [child, ...child.stdio] as Array<{ ref?: () => void; unref?: () => void } | null>;
    for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
  }

  /** Stops the runner; the next command starts another. */
  stop(): void {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    child?.kill('SIGKILL');
  }

  private start(): Promise<void> {
    if (this.ready && this.child) return this.ready;
    this.exited = undefined;
    const child = spawn(this.python, [SERVER_SCRIPT], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, LOGPIPE_DBT_PARENT_PID: String(process.pid) },
    });
    this.child = child;
    const keep = (line: string) => {
      const out = this.current?.output;
      if (!out) return;
      out.push(line);
      if (out.length > KEEP_LINES) out.shift();
    };
    createInterface({ input: child.stdout as Readable }).on('line', keep);
    createInterface({ input: child.stderr as Readable }).on('line', keep);
    let markReady: () => void = () => {};
    let failStart: (e: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    createInterface({ input: child.stdio[4] as Readable }).on('line', (line) => {
      let msg: {
        id: number | null;
        ready?: boolean;
        exit_code?: number;
        parsed?: boolean;
        error?: string | null;
      };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.ready) return markReady();
      const pending = this.current;
      if (!pending || msg.id !== pending.id) return;
      this.current = undefined;
      pending.resolve({
        exitCode: msg.exit_code ?? 2,
        parsed: msg.parsed ?? false,
        error: msg.error ?? null,
        output: pending.output,
      });
    });
    const onGone = (why: string) => {
      if (this.child === child) {
        this.child = undefined;
        this.ready = undefined;
      }
      const err = new Error(`the dbt runner ${why}`);
      this.exited = err;
      failStart(err);
      const pending = this.current;
      this.current = undefined;
      pending?.reject(new Error(`${err.message}; its last lines: ${pending.output.slice(-5).join(' | ')}`));
    };
    child.on('error', (e) => onGone(`could not start (${e.message})`));
    child.on('exit', (code, sig) => onGone(`exited (${sig ?? code})`));
    return this.ready;
  }

  private async runNow(
    args: string[],
    env: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<DbtServerReply> {
    signal?.throwIfAborted();
    // Cancelled mid-command: dbt cannot be interrupted cleanly, so the runner goes (its open
    // transactions roll back) and the next command starts another.
    const abort = () => this.stop();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const starting = this.start();
      this.hold(true); // runNow's finally lets go of it again
      await starting;
      const child = this.child;
      if (!child) throw this.exited ?? new Error('the dbt runner is not running');
      const id = this.nextId++;
      const reply = new Promise<DbtServerReply>((resolve, reject) => {
        this.current = { id, resolve, reject, output: [] };
      });
      (child.stdio[3] as Writable).write(`${JSON.stringify({ id, args, env })}\n`);
      return await reply;
    } finally {
      signal?.removeEventListener('abort', abort);
      this.hold(false);
    }
  }
}
