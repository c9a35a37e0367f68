// Every server listens on loopback only. The listening TCP sockets of the stack's processes (the
// pids in the data directory's run/ folder, and their children) are found by mapping the socket
// inodes of /proc/<pid>/fd to /proc/<pid>/net/tcp and tcp6; each must be bound to 127.0.0.1 or ::1
// (or ::ffff:127.0.0.1), never to a wildcard address (0.0.0.0, ::) or an outside interface. A
// streaming worker and a dashboard started here with the default settings are checked the same way.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Dashboard, startDashboard } from '../../dashboard/server.ts';
import { loadConfig } from '../../lib/config.ts';
import { readPidFile, startTicks } from '../../stack/process.ts';
import { allServices } from '../../stack/stack.ts';
import {
  createTopics,
  isolated,
  startWorker,
  stopWorker,
  type WorkerHandle,
  waitFor,
} from '../helpers/pipeline.ts';

interface Listener {
  pid: number;
  address: string;
  port: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** An address of /proc/net/tcp(6): hex, each 32-bit word in host (little-endian) byte order. */
export function decodeAddress(hex: string): { address: string; port: number } {
  const [addr = '', port = ''] = hex.split(':');
  const words = (addr.match(/.{8}/g) ?? []).map((w) =>
    (w.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)),
  );
  const bytes = words.flat();
  if (bytes.length === 4) return { address: bytes.join('.'), port: Number.parseInt(port, 16) };
  const groups = Array.from({ length: 8 }, (_, i) =>
    (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
  );
  let address: string;
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff')
    address = `::ffff:${bytes.slice(12).join('.')}`;
  else if (groups.every((g) => g === '0')) address = '::';
  else if (groups.slice(0, 7).every((g) => g === '0')) address = `::${groups[7]}`;
  else address = groups.join(':');
  return { address, port: Number.parseInt(port, 16) };
}

/** The pid and its descendants (PostgreSQL's backends, a wrapper's child, …). */
function withDescendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** The listening TCP sockets a process holds open. */
export function listeners(pid: number): Listener[] {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      /* closed meanwhile */
    }
  }
  const out: Listener[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address, state (0A: LISTEN), inode
      if (f[3] !== '0A' || !inodes.has(f[9] ?? '')) continue;
      out.push({ pid, ...decodeAddress(f[1] ?? '') });
    }
  }
  return out;
}

const outside = (ls: Listener[]) => ls.filter((l) => !LOOPBACK.has(l.address));
const show = (ls: Listener[]) => ls.map((l) => `pid ${l.pid} ${l.address}:${l.port}`).join(', ');

/** Live processes behind the pid files of run/: the stack's servers and any pipeline process. */
function pidFileProcesses(runDir: string): Map<string, number> {
  const out = new Map<string, number>();
  let files: string[] = [];
  try {
    files = readdirSync(runDir).filter((f) => f.endsWith('.pid'));
  } catch {
    /* no run/ folder */
  }
  for (const f of files) {
    const rec = readPidFile(join(runDir, f));
    // The same process as the one recorded (not a reused pid), without touching the file.
    if (rec && rec.startTicks !== undefined && startTicks(rec.pid) === rec.startTicks)
      out.set(f.replace(/\.pid$/, ''), rec.pid);
  }
  return out;
}

describe('every server listens on loopback only', () => {
  const config = loadConfig();
  const runDir = join(config.LOGPIPE_DATA_DIR, 'run');

  it('decodes /proc/net/tcp and tcp6 addresses', () => {
    assert.deepEqual(decodeAddress('0100007F:1538'), { address: '127.0.0.1', port: 5432 });
    assert.deepEqual(decodeAddress('00000000:2384'), { address: '0.0.0.0', port: 9092 });
    assert.deepEqual(decodeAddress('00000000000000000000000001000000:1F54'), { address: '::1', port: 8020 });
    assert.deepEqual(decodeAddress('00000000000000000000000000000000:2352'), { address: '::', port: 9042 });
    assert.deepEqual(decodeAddress('0000000000000000FFFF00000100007F:1C1F'), {
      address: '::ffff:127.0.0.1',
      port: 7199,
    });
    assert.deepEqual(decodeAddress('0000000000000000FFFF00000000000A:0050'), {
      address: '::ffff:10.0.0.0',
      port: 80,
    });
  });

  it("the stack's servers and their children: every listening socket on 127.0.0.1 or ::1", async () => {
    const services = allServices();
    // Other tests stop and restart single services: wait for every server to run and listen again.
    const found = await waitFor(
      `every stack server running and listening (pid files in ${runDir})`,
      async () => {
        const procs = pidFileProcesses(runDir);
        const byService = new Map<string, Listener[]>();
        for (const [name, pid] of procs) byService.set(name, withDescendants(pid).flatMap(listeners));
        const missing = services.filter(
          (s) => !byService.get(s.name)?.some((l) => s.port === undefined || l.port === s.port),
        );
        if (missing.length)
          throw new Error(`not running or not listening: ${missing.map((s) => s.name).join(', ')}`);
        return byService;
      },
      180_000,
      2000,
    );
    const all = [...found.values()].flat();
    assert.ok(all.length >= services.length, show(all));
    const bad = [...found].flatMap(([name, ls]) => outside(ls).map((l) => `${name}: ${show([l])}`));
    assert.deepEqual(bad, [], 'servers listening beyond loopback');
  });

  describe('a streaming worker and a dashboard started with the default settings', () => {
    // The defaults (an empty variable is an unset one); the worker's metrics on a free port.
    const iso = isolated('loopback', { DASHBOARD_HOST: '', STREAM_METRICS_HOST: '' });
    let worker: WorkerHandle;
    let dash: Dashboard;

    before(async () => {
      await createTopics(iso);
      worker = startWorker(iso);
      dash = await startDashboard(iso.config, { port: 0 });
    });
    after(async () => {
      await dash?.close();
      if (worker) await stopWorker(worker);
    });

    it('the streaming worker (metrics endpoint) listens on loopback only', async () => {
      const pid = worker.child.pid as number;
      const ls = await waitFor(
        'the worker listening',
        async () => {
          const l = withDescendants(pid).flatMap(listeners);
          return l.length ? l : undefined;
        },
        60_000,
        500,
      );
      assert.deepEqual(outside(ls), [], show(ls));
      // Its metrics answer on 127.0.0.1.
      const port = ls[0]?.port;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
    });

    it('the dashboard listens on loopback only', async () => {
      assert.equal(iso.config.DASHBOARD_HOST, '127.0.0.1');
      const port = Number(new URL(dash.url).port);
      // The dashboard runs in this process: its server is one of this process's listening sockets.
      const ls = listeners(process.pid);
      assert.ok(
        ls.some((l) => l.port === port),
        `dashboard port ${port} among ${show(ls)}`,
      );
      assert.deepEqual(outside(ls), [], show(ls));
      assert.equal((await fetch(`${dash.url}/healthz`)).status, 200);
    });
  });
});
