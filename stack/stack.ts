// The local stack as a whole: provision every component, start services in dependency order
// (idempotently: what runs is left alone), stop them in reverse, and report their state.

import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../lib/config.ts';
import { errorMessage } from '../lib/errors.ts';
import { cassandra } from './cassandra.ts';
import { dbt } from './dbt.ts';
import { hdfs } from './hdfs.ts';
import { kafka } from './kafka.ts';
import { portOpen } from './net.ts';
import { postgres } from './postgres.ts';
import { runningPid, startDetached, stopProcess, tailFile } from './process.ts';
import { consoleProgress } from './provision.ts';
import { temporal } from './temporal.ts';
import type { Progress, ServiceDef, StackComponent, StackContext } from './types.ts';

export const components: StackComponent[] = [postgres, kafka, hdfs, cassandra, temporal, dbt];

export function stackContext(config: Config, progress: Progress = consoleProgress()): StackContext {
  return { config, dataDir: config.LOGPIPE_DATA_DIR, cacheDir: config.LOGPIPE_CACHE_DIR, progress };
}

export const logFile = (ctx: StackContext, name: string) => join(ctx.dataDir, 'logs', `${name}.log`);
export const pidFile = (ctx: StackContext, name: string) => join(ctx.dataDir, 'run', `${name}.pid`);
export const binDir = (ctx: StackContext) => join(ctx.dataDir, 'bin');

export interface ServiceStatus {
  name: string;
  state: 'up' | 'down';
  pid: number | null;
  port: number | null;
  url: string | null;
  log: string;
  reason?: string;
  optional?: boolean;
}

/** Installs every component that is missing from the cache, all at once. */
export async function provisionAll(ctx: StackContext, only: StackComponent[] = components): Promise<void> {
  mkdirSync(ctx.cacheDir, { recursive: true });
  const results = await Promise.allSettled(only.map((c) => c.provision(ctx)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
  if (failures.length) throw new Error(failures.join('\n'));
  linkTools(ctx, only);
}

/** One bin/ folder with every user-facing tool, for `eval "$(./logpipe env)"`. */
function linkTools(ctx: StackContext, only: StackComponent[]): void {
  mkdirSync(binDir(ctx), { recursive: true });
  for (const c of only) {
    for (const [name, target] of Object.entries(c.tools(ctx))) {
      const link = join(binDir(ctx), name);
      try {
        if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === target) continue;
        unlinkSync(link);
      } catch {
        /* absent */
      }
      if (existsSync(target)) symlinkSync(target, link);
    }
  }
}

export const allServices = (list: StackComponent[] = components): ServiceDef[] =>
  list.flatMap((c) => c.services);

async function waitReady(ctx: StackContext, svc: ServiceDef, pid: number): Promise<void> {
  const timeout = svc.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (runningPid(pidFile(ctx, svc.name)) !== pid) {
      throw new Error(
        `${svc.name} exited during startup; log: ${logFile(ctx, svc.name)}\n${tailFile(logFile(ctx, svc.name))}`,
      );
    }
    if (await svc.ready(ctx)) return;
    await sleep(500);
  }
  throw new Error(
    `${svc.name} did not become ready within ${timeout / 1000} s; log: ${logFile(ctx, svc.name)}`,
  );
}

/** Starts one service unless it already runs; returns whether it was started now. */
export async function startService(ctx: StackContext, svc: ServiceDef): Promise<boolean> {
  const existing = runningPid(pidFile(ctx, svc.name));
  if (existing !== undefined) {
    await waitReady(ctx, svc, existing);
    await svc.afterStart?.(ctx); // idempotent: brings e.g. the schedule in line with the code
    return false;
  }
  // Another server on the port would answer the readiness check in this one's place.
  if (svc.port && (await portOpen(svc.port))) {
    throw new Error(
      `${svc.name}: port ${svc.port} is already in use by a process this stack did not start (another checkout's stack?); stop it, or point logpipe at it with the variables in the README`,
    );
  }
  const started = Date.now();
  const spec = await svc.prepare(ctx);
  const pid = startDetached(spec, logFile(ctx, svc.name), pidFile(ctx, svc.name), svc.processMarker);
  await waitReady(ctx, svc, pid);
  await svc.afterStart?.(ctx);
  ctx.progress.info(svc.name, `up in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid})`);
  return true;
}

/** Starts services concurrently, each once those it comes after are ready. */
export async function startServices(ctx: StackContext, services: ServiceDef[]): Promise<string[]> {
  const started: string[] = [];
  const done = new Map<string, Promise<void>>();
  const byName = new Map(services.map((s) => [s.name, s]));
  const start = (svc: ServiceDef): Promise<void> => {
    let p = done.get(svc.name);
    if (!p) {
      p = (async () => {
        await Promise.all(
          (svc.after ?? []).flatMap((n) => (byName.has(n) ? [start(byName.get(n) as ServiceDef)] : [])),
        );
        if (await startService(ctx, svc)) started.push(svc.name);
      })();
      done.set(svc.name, p);
    }
    return p;
  };
  const results = await Promise.allSettled(services.map(start));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
  if (failures.length) throw new Error(failures.join('\n'));
  return started;
}

export async function stopService(ctx: StackContext, svc: ServiceDef): Promise<boolean> {
  const pid = runningPid(pidFile(ctx, svc.name));
  if (pid === undefined) return false;
  const killed = await stopProcess(pid, svc.stopSignal ?? 'SIGTERM', svc.stopTimeoutMs ?? 20_000);
  rmSync(pidFile(ctx, svc.name), { force: true });
  ctx.progress.info(svc.name, killed ? 'did not stop in time: killed' : 'stopped');
  return true;
}

/** Stops services in reverse start order, dependents first. */
export async function stopServices(ctx: StackContext, services: ServiceDef[]): Promise<void> {
  const dependents = services.filter((s) => s.after?.length);
  await Promise.all(dependents.map((s) => stopService(ctx, s)));
  await Promise.all(services.filter((s) => !s.after?.length).map((s) => stopService(ctx, s)));
}

export async function serviceStatus(ctx: StackContext, svc: ServiceDef): Promise<ServiceStatus> {
  const pid = runningPid(pidFile(ctx, svc.name));
  const base = {
    name: svc.name,
    port: svc.port ?? null,
    url: svc.url ?? null,
    log: logFile(ctx, svc.name),
    ...(svc.optional ? { optional: true } : {}),
  };
  if (pid === undefined) return { ...base, state: 'down', pid: null, reason: 'not running' };
  const ready = await svc.ready(ctx).catch(() => false);
  return ready
    ? { ...base, state: 'up', pid }
    : {
        ...base,
        state: 'down',
        pid,
        reason: `process ${pid} runs but does not answer${svc.port ? ` on port ${svc.port}` : ''}`,
      };
}

export async function stackUp(ctx: StackContext): Promise<string[]> {
  await provisionAll(ctx);
  return startServices(ctx, allServices());
}

export async function stackDown(ctx: StackContext, purge = false): Promise<void> {
  await stopServices(ctx, allServices());
  if (purge) {
    const pgData = join(ctx.dataDir, 'postgres', 'data');
    try {
      // The PostgreSQL cluster may live outside the data directory (see stack/postgres.ts).
      if (lstatSync(pgData).isSymbolicLink()) rmSync(readlinkSync(pgData), { recursive: true, force: true });
    } catch {
      /* absent */
    }
    rmSync(ctx.dataDir, { recursive: true, force: true });
    ctx.progress.info('stack', `purged ${ctx.dataDir}`);
  }
}

export function stackStatus(ctx: StackContext): Promise<ServiceStatus[]> {
  return Promise.all(allServices().map((s) => serviceStatus(ctx, s)));
}
