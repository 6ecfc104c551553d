import { randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ownFile, releaseFile } from './ownedFiles';

/** Options for {@link atomicWrite} and {@link AtomicFileWriter.create}. */
export interface AtomicWriteOptions {
  /** Replace an existing target. Off by default: a transform never silently replaces a file. */
  readonly overwrite?: boolean;
  /** The model the output was derived from; writing onto it (after resolving links) is always refused. */
  readonly source?: string;
  /** Checked between chunks; when it returns true the write stops and the temporary file is removed. */
  readonly isCancelled?: () => boolean;
  /**
   * The bytes the whole save will take (a model and its data file together), so that a full disk
   * is reported with what was needed rather than with how far the write got.
   */
  readonly expectedBytes?: number;
}

/** Thrown when the target exists (without `overwrite`) or is the source model itself. */
export class TargetExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetExistsError';
  }
}

/** Thrown by a write that was cancelled through {@link AtomicWriteOptions.isCancelled}. */
export class WriteCancelledError extends Error {
  constructor() {
    super('write cancelled');
    this.name = 'WriteCancelledError';
  }
}

/**
 * Thrown when the file system ran out of space (or quota) during a write. The temporary file has
 * been removed by then; the message says how much was needed and how much was free.
 */
export class DiskFullError extends Error {
  constructor(
    /** The file that could not be written. */
    readonly target: string,
    /** The bytes the write needed. */
    readonly bytesNeeded: number,
    /** The bytes free to this process on the target's file system when the write began, if known. */
    readonly bytesFree: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `no space left on the device for ${target}: it needs ${bytesNeeded} bytes, and ${bytesFree === undefined ? 'an unknown number of' : bytesFree} bytes were free on its file system when the write began`,
      options,
    );
    this.name = 'DiskFullError';
  }
}

/** True for the errors a full file system or an exhausted quota give. */
function isOutOfSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Bytes an unprivileged writer may still use on the file system of `dir`, or undefined when it cannot be asked. */
async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The canonical form of `path`, or of its folder plus its name when the file does not exist yet. */
async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    try {
      return join(await realpath(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/** Refuses targets that would destroy something: the source model, or an existing file without consent. */
async function checkTarget(target: string, options: AtomicWriteOptions): Promise<void> {
  if (options.source !== undefined && (await canonical(target)) === (await canonical(options.source))) {
    throw new TargetExistsError(`refusing to write onto the source model ${options.source}`);
  }
  if (!options.overwrite && (await exists(target))) {
    throw new TargetExistsError(`${target} already exists; choose another name or allow overwriting`);
  }
}

/**
 * A file being written: bytes go to a uniquely named `.tmp` file in the target's folder (so the
 * final rename stays on one file system and is atomic), and only {@link commit} makes it visible
 * under the target name. {@link abort} (or any failed write) removes the temporary file.
 */
export class AtomicFileWriter {
  private done = false;
  private written = 0;

  private constructor(
    /** The final path. */
    readonly target: string,
    /** The temporary file the bytes go to until {@link commit}. */
    readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly options: AtomicWriteOptions,
    private readonly freeAtStart: number | undefined,
  ) {}

  /**
   * Checks the target and opens a fresh temporary file next to it. The temporary file is
   * declared as owned (see {@link ownFile}) before it exists, so that if this process is killed
   * its parent can remove it.
   */
  static async create(target: string, options: AtomicWriteOptions = {}): Promise<AtomicFileWriter> {
    await checkTarget(target, options);
    const dir = dirname(resolve(target));
    const tempPath = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const free = await freeBytes(dir);
    await ownFile(tempPath);
    let handle: FileHandle;
    try {
      // 'wx' fails rather than reuse a file someone else created with the same random name.
      handle = await open(tempPath, 'wx');
    } catch (e) {
      releaseFile(tempPath);
      throw e;
    }
    return new AtomicFileWriter(target, tempPath, handle, options, free);
  }

  /** The error to throw for `e`: a full disk becomes a {@link DiskFullError} with the figures. */
  private explain(e: unknown, pending: number): unknown {
    if (!isOutOfSpace(e)) return e;
    const needed = Math.max(this.options.expectedBytes ?? 0, this.written + pending);
    return new DiskFullError(this.target, needed, this.freeAtStart, { cause: e });
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Appends `chunk`. A failure or cancellation removes the temporary file before it is rethrown. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error(`write to ${this.target} after it was committed or aborted`);
    try {
      if (this.options.isCancelled?.()) throw new WriteCancelledError();
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
      this.written += chunk.length;
    } catch (e) {
      await this.abort();
      throw this.explain(e, chunk.length);
    }
  }

  /** Flushes the bytes to disk and renames the temporary file onto the target. */
  async commit(): Promise<void> {
    if (this.done) throw new Error(`commit of ${this.target} after it was committed or aborted`);
    try {
      if (this.options.isCancelled?.()) throw new WriteCancelledError();
      await this.handle.sync();
      await this.handle.close();
      // Checked again: another writer may have created the target while we were writing.
      await checkTarget(this.target, this.options);
      await rename(this.tempPath, this.target);
      this.done = true;
      releaseFile(this.tempPath);
    } catch (e) {
      await this.abort();
      throw this.explain(e, 0);
    }
  }

  /** Drops the temporary file. Safe to call more than once and after a failure. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true }).catch(() => undefined);
    releaseFile(this.tempPath);
  }
}

/**
 * Writes `chunks` (an array or any sync/async iterable, so multi-GB outputs stream) to `target`
 * atomically: the target either appears complete or not at all. Returns the number of bytes written.
 */
export async function atomicWrite(
  target: string,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): Promise<number> {
  const w = await AtomicFileWriter.create(target, options);
  try {
    for await (const chunk of chunks) await w.write(chunk);
    await w.commit();
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.bytesWritten;
}
