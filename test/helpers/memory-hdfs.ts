// An HDFS held in memory, for unit tests of compaction and layout (pure logic: the real client is
// tested against the real NameNode in test/integration/hdfs.test.ts). It keeps the semantics the
// code relies on: parents made by a write, no rename onto an existing name (folders move whole), append only to a file
// that exists, a missing folder listed is an error, a folder with entries is not removed unless
// recursively.
import type { HdfsFileStatus, HdfsStore } from '../../lib/clients/hdfs.ts';

const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';
const notFound = (path: string) =>
  Object.assign(new Error(`File ${path} does not exist.`), { name: 'FileNotFoundException' });

export class MemoryHdfs implements HdfsStore {
  readonly files = new Map<string, Buffer>();
  readonly dirs = new Set<string>(['/']);
  /** Every call, by method name, for tests that assert how the code read. */
  readonly calls: string[] = [];
  private clock = 0;
  private readonly mtimes = new Map<string, number>();

  private touch(path: string) {
    this.mtimes.set(path, ++this.clock);
  }

  async mkdirs(path: string): Promise<void> {
    this.calls.push('mkdirs');
    for (let p = path; p !== '/' && !this.dirs.has(p); p = parentOf(p)) {
      if (this.files.has(p)) throw new Error(`${p} is a file`);
      this.dirs.add(p);
      this.touch(p);
    }
  }

  async writeFile(path: string, data: Buffer | string): Promise<void> {
    this.calls.push('writeFile');
    if (this.dirs.has(path)) throw new Error(`${path} is a folder`);
    await this.mkdirs(parentOf(path));
    this.files.set(path, Buffer.from(data));
    this.touch(path);
  }

  async appendFile(path: string, data: Buffer | string): Promise<void> {
    this.calls.push('appendFile');
    const old = this.files.get(path);
    if (!old) throw notFound(path);
    this.files.set(path, Buffer.concat([old, Buffer.from(data)]));
    this.touch(path);
  }

  async createExclusive(path: string, data: Buffer | string): Promise<boolean> {
    if (this.files.has(path)) return false;
    await this.writeFile(path, data);
    return true;
  }

  async readFile(path: string): Promise<Buffer> {
    this.calls.push('readFile');
    const body = this.files.get(path);
    if (!body) throw notFound(path);
    return body;
  }

  async readRange(path: string, offset: number, length: number): Promise<Buffer> {
    this.calls.push('readRange');
    const body = this.files.get(path);
    if (!body) throw notFound(path);
    return body.subarray(offset, offset + length);
  }

  async stat(path: string): Promise<HdfsFileStatus | undefined> {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const body = this.files.get(path);
    const modificationTime = this.mtimes.get(path) ?? 0;
    if (body) return { pathSuffix: name, type: 'FILE', length: body.length, modificationTime };
    if (this.dirs.has(path)) return { pathSuffix: name, type: 'DIRECTORY', length: 0, modificationTime };
    return undefined;
  }

  private children(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.files.keys(), ...this.dirs]
      .filter((p) => p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
      .sort();
  }

  async list(path: string): Promise<HdfsFileStatus[]> {
    this.calls.push('list');
    if (!this.dirs.has(path)) throw notFound(path);
    const out: HdfsFileStatus[] = [];
    for (const child of this.children(path)) {
      const s = await this.stat(child);
      if (s) out.push(s);
    }
    return out;
  }

  async listIfExists(path: string): Promise<HdfsFileStatus[]> {
    return this.dirs.has(path) ? this.list(path) : [];
  }

  async rename(from: string, to: string): Promise<void> {
    this.calls.push('rename');
    const body = this.files.get(from);
    const isDir = this.dirs.has(from);
    if ((!body && !isDir) || (await this.stat(to)) || !this.dirs.has(parentOf(to)))
      throw new Error(`HDFS rename ${from} -> ${to} did not happen`);
    if (body) {
      this.files.delete(from);
      this.files.set(to, body);
    } else {
      // A folder moves with everything in it.
      const moved = (p: string) => `${to}${p.slice(from.length)}`;
      for (const d of [...this.dirs].filter((d) => d === from || d.startsWith(`${from}/`))) {
        this.dirs.delete(d);
        this.dirs.add(moved(d));
      }
      for (const [p, b] of [...this.files].filter(([p]) => p.startsWith(`${from}/`))) {
        this.files.delete(p);
        this.files.set(moved(p), b);
      }
    }
    this.touch(to);
  }

  async remove(path: string, recursive = false): Promise<void> {
    this.calls.push('remove');
    if (this.files.delete(path)) return;
    if (!this.dirs.has(path)) return;
    const inside = [...this.files.keys(), ...this.dirs].filter((p) => p.startsWith(`${path}/`));
    if (inside.length && !recursive) throw new Error(`${path} is non empty`);
    for (const p of inside) {
      this.files.delete(p);
      this.dirs.delete(p);
    }
    this.dirs.delete(path);
  }
}

/**
 * A MemoryHdfs that behaves like a DataNode stopped mid-write: the next write or append to a
 * matching path is cut short and leaves that file open under the lease of a client that is gone, so
 * writing it again is refused and reading it fails (in HDFS until the lease is recovered, at worst
 * the NameNode's hard limit of 20 minutes). Deleting it works, as in HDFS.
 */
export class LeasingHdfs extends MemoryHdfs {
  private cut: RegExp | undefined;
  readonly leased = new Set<string>();

  cutNextWrite(path: RegExp): void {
    this.cut = path;
  }

  /** A write or an append: refused on a leased file, cut short (leaving it leased) when it matches. */
  private async write(
    what: 'create' | 'append to',
    path: string,
    data: Buffer | string,
    done: (data: Buffer | string) => Promise<void>,
  ): Promise<void> {
    if (this.leased.has(path))
      throw Object.assign(new Error(`failed to ${what} ${path}: the lease is owned by another client`), {
        name: 'AlreadyBeingCreatedException',
      });
    if (this.cut?.test(path)) {
      this.cut = undefined;
      this.leased.add(path);
      await done(Buffer.from(data).subarray(0, 7)); // what was written before the stop
      throw new Error('socket hang up');
    }
    await done(data);
  }

  override writeFile(path: string, data: Buffer | string): Promise<void> {
    return this.write('create', path, data, (d) => super.writeFile(path, d));
  }

  override appendFile(path: string, data: Buffer | string): Promise<void> {
    return this.write('append to', path, data, (d) => super.appendFile(path, d));
  }

  override async readFile(path: string): Promise<Buffer> {
    if (this.leased.has(path)) throw new Error(`Cannot obtain block length for ${path}`);
    return super.readFile(path);
  }

  override async readRange(path: string, offset: number, length: number): Promise<Buffer> {
    if (this.leased.has(path)) throw new Error(`Cannot obtain block length for ${path}`);
    return super.readRange(path, offset, length);
  }

  override async remove(path: string, recursive = false): Promise<void> {
    this.leased.delete(path); // HDFS deletes an open file
    await super.remove(path, recursive);
  }
}
