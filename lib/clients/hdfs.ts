// HDFS through WebHDFS with the `webhdfs` client (which follows the NameNode's redirect to the
// DataNode for reads and writes), as promises.
import WebHDFS from 'webhdfs';
import type { Config } from '../config.ts';
import { errorField, errorMessage } from '../errors.ts';

export interface HdfsFileStatus {
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  modificationTime: number;
  /** A folder's entries (WebHDFS reports it for folders); undefined where a store does not say. */
  childrenNum?: number;
}

/**
 * What logpipe does with HDFS. The WebHDFS client below is the one implementation in the product;
 * unit tests of compaction and layout give an in-memory one (test/helpers/memory-hdfs.ts).
 */
export interface HdfsStore {
  /** Creates or overwrites a file (parents are created). */
  writeFile(path: string, data: Buffer | string): Promise<void>;
  appendFile(path: string, data: Buffer | string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** `length` bytes of a file from `offset` (fewer at its end). */
  readRange(path: string, offset: number, length: number): Promise<Buffer>;
  /** A folder's entries; throws when it does not exist. */
  list(path: string): Promise<HdfsFileStatus[]>;
  /** A folder's entries, none when it does not exist. */
  listIfExists(path: string): Promise<HdfsFileStatus[]>;
  mkdirs(path: string): Promise<void>;
  /** A file's or folder's status, undefined when there is none. */
  stat(path: string): Promise<HdfsFileStatus | undefined>;
  /** Creates a file only if no file has that name: false when one has. */
  createExclusive(path: string, data: Buffer | string): Promise<boolean>;
  /** Renames; throws when it did not happen (HDFS does not rename onto an existing file). */
  rename(from: string, to: string): Promise<void>;
  remove(path: string, recursive?: boolean): Promise<void>;
}

interface RawClient {
  writeFile(
    path: string,
    data: Buffer | string,
    append: boolean,
    opts: object,
    cb: (err: Error | null) => void,
  ): unknown;
  readFile(path: string, cb: (err: Error | null, data: Buffer) => void): unknown;
  createReadStream(path: string, opts?: object): NodeJS.EventEmitter & { end(): void };
  readdir(path: string, cb: (err: Error | null, files: HdfsFileStatus[]) => void): unknown;
  mkdir(path: string, mode: string | undefined, cb: (err: Error | null) => void): unknown;
  rename(path: string, destination: string, cb: (err: Error | null) => void): unknown;
  stat(path: string, cb: (err: Error | null, status: HdfsFileStatus) => void): unknown;
  unlink(path: string, recursive: boolean, cb: (err: Error | null) => void): unknown;
}

const call = <T>(fn: (cb: (err: Error | null, value?: T) => void) => unknown): Promise<T> =>
  new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)));
  });

const isNotFound = (err: unknown) =>
  errorField(err, 'name') === 'FileNotFoundException' || /not found|does not exist/i.test(errorMessage(err));

export class Hdfs implements HdfsStore {
  private readonly raw: RawClient;

  constructor(config: Pick<Config, 'WEBHDFS_URL' | 'HDFS_USER'>) {
    const url = new URL(config.WEBHDFS_URL);
    this.raw = (WebHDFS as unknown as { createClient(o: object, r?: object): RawClient }).createClient(
      {
        user: config.HDFS_USER,
        host: url.hostname,
        port: Number(url.port || 80),
        path: '/webhdfs/v1',
        protocol: url.protocol.replace(':', ''),
      },
      { timeout: 30_000 },
    );
  }

  /** Creates or overwrites a file (parents are created). */
  writeFile(path: string, data: Buffer | string): Promise<void> {
    return call((cb) => this.raw.writeFile(path, data, false, { overwrite: true }, cb));
  }

  appendFile(path: string, data: Buffer | string): Promise<void> {
    return call((cb) => this.raw.writeFile(path, data, true, {}, cb));
  }

  readFile(path: string): Promise<Buffer> {
    return call((cb) => this.raw.readFile(path, cb));
  }

  /**
   * `length` bytes of a file from `offset` (fewer at its end): one WebHDFS OPEN of that range, so
   * a reader holds one range at a time however large the file (the client's streams have no
   * backpressure).
   */
  readRange(path: string, offset: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let failed: Error | undefined;
      const req = this.raw.createReadStream(path, { offset, length });
      req.on('data', (chunk: Buffer) => parts.push(chunk));
      req.once('error', (err: Error) => {
        failed = err;
      });
      req.once('finish', () => (failed ? reject(failed) : resolve(Buffer.concat(parts))));
    });
  }

  list(path: string): Promise<HdfsFileStatus[]> {
    return call((cb) => this.raw.readdir(path, cb));
  }

  mkdirs(path: string): Promise<void> {
    return call((cb) => this.raw.mkdir(path, undefined, cb));
  }

  async stat(path: string): Promise<HdfsFileStatus | undefined> {
    try {
      return await call<HdfsFileStatus>((cb) => this.raw.stat(path, cb));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A folder's entries, none when it does not exist (any other failure is thrown). */
  async listIfExists(path: string): Promise<HdfsFileStatus[]> {
    try {
      return await this.list(path);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  /**
   * Creates a file only if no file has that name: false when one has. The NameNode decides, so of
   * two writers creating the same name exactly one wins (the fencing of raw-file writers uses it).
   */
  async createExclusive(path: string, data: Buffer | string): Promise<boolean> {
    try {
      await call((cb) => this.raw.writeFile(path, data, false, { overwrite: false }, cb));
      return true;
    } catch (err) {
      if (/already exists/i.test(errorMessage(err))) return false;
      throw err;
    }
  }

  /** Renames; WebHDFS answers `false` rather than an error when it cannot, so the result is checked. */
  async rename(from: string, to: string): Promise<void> {
    await call((cb) => this.raw.rename(from, to, cb));
    if (!(await this.stat(to))) throw new Error(`HDFS rename ${from} -> ${to} did not happen`);
  }

  remove(path: string, recursive = false): Promise<void> {
    return call((cb) => this.raw.unlink(path, recursive, cb));
  }
}
