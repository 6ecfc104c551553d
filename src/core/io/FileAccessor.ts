import { open, stat, type FileHandle } from 'node:fs/promises';
import { FormatError } from '../FormatError';

/** At most this many files stay open at once across all accessors; older handles are closed first. */
const MAX_OPEN_HANDLES = 16;

/** Process-wide LRU of open file handles, so a 200-shard checkpoint never exhausts descriptors. */
class HandlePool {
  private readonly handles = new Map<string, Promise<FileHandle>>();
  private readonly users = new Map<string, number>();

  async acquire(path: string): Promise<FileHandle> {
    let h = this.handles.get(path);
    if (h) {
      this.handles.delete(path); // re-insert: most recently used goes last
      this.handles.set(path, h);
    } else {
      h = open(path, 'r');
      this.handles.set(path, h);
      h.catch(() => this.handles.delete(path));
      await this.evict();
    }
    this.users.set(path, (this.users.get(path) ?? 0) + 1);
    return h;
  }

  release(path: string): void {
    const n = (this.users.get(path) ?? 1) - 1;
    if (n <= 0) this.users.delete(path);
    else this.users.set(path, n);
  }

  async forget(path: string): Promise<void> {
    const h = this.handles.get(path);
    if (!h || this.users.has(path)) return;
    this.handles.delete(path);
    await (await h).close().catch(() => undefined);
  }

  /** Closes every handle no read is using; the next read of such a file opens it again. */
  async closeIdle(): Promise<number> {
    const idle = [...this.handles].filter(([path]) => !this.users.has(path));
    for (const [path] of idle) this.handles.delete(path);
    await Promise.all(idle.map(async ([, h]) => (await h.catch(() => undefined))?.close().catch(() => undefined)));
    return idle.length;
  }

  private async evict(): Promise<void> {
    for (const [path, h] of this.handles) {
      if (this.handles.size <= MAX_OPEN_HANDLES) return;
      if (this.users.has(path)) continue; // in the middle of a read
      this.handles.delete(path);
      await (await h.catch(() => undefined))?.close().catch(() => undefined);
    }
  }
}

const pool = new HandlePool();

/**
 * Closes the shared handles that no read is using, and returns how many. The pool keeps up to
 * {@link MAX_OPEN_HANDLES} files open between reads; a long-lived process (the worker) calls this
 * once no job runs, so a model the user has finished with is not held open (on disk after its
 * deletion, or locked) until 16 other files push it out.
 */
export function closeIdleFiles(): Promise<number> {
  return pool.closeIdle();
}

/**
 * Positioned, bounds-checked reads from one file. Readers never load a whole checkpoint: they
 * ask for the byte ranges they need, and every range is checked against the file size first,
 * so a lying header cannot make us allocate or read past the end.
 */
export class FileAccessor {
  /** Bytes read through this accessor so far; tests use it to prove listing reads O(header) bytes. */
  bytesRead = 0;

  private constructor(readonly path: string, readonly size: number) {}

  /** Opens `path` for reading; fails with a {@link FormatError} when it is missing or not a file. */
  static async open(path: string): Promise<FileAccessor> {
    let s;
    try {
      s = await stat(path);
    } catch (e) {
      throw new FormatError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
    if (!s.isFile()) throw new FormatError(`${path} is not a regular file`);
    return new FileAccessor(path, s.size);
  }

  /** Bytes left after `offset`, for error messages. */
  remaining(offset: number): number {
    return Math.max(0, this.size - offset);
  }

  /** Throws unless [offset, offset + length) lies within the file. */
  checkRange(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new FormatError(
        `${what} spans bytes ${offset}..${offset + length} but the file has only ${this.size} bytes`,
        { offset },
      );
    }
  }

  /**
   * Reads exactly `length` bytes at `offset` into `into` (or a new buffer). A short read means
   * the file changed underneath us and is reported as a {@link FormatError}.
   */
  async read(offset: number, length: number, into?: Uint8Array, what = 'read'): Promise<Uint8Array> {
    this.checkRange(offset, length, what);
    const buf = into && into.byteLength >= length ? into.subarray(0, length) : new Uint8Array(length);
    const fh = await pool.acquire(this.path);
    try {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw new FormatError(`${this.path} ended early at byte ${offset + done} (was it truncated while open?)`, { offset: offset + done });
        done += bytesRead;
      }
      this.bytesRead += length;
      return buf;
    } finally {
      pool.release(this.path);
    }
  }

  /** Closes the shared handle if no other accessor uses it. */
  async close(): Promise<void> {
    await pool.forget(this.path);
  }
}
