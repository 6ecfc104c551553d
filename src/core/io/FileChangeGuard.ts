import { stat } from 'node:fs/promises';
import { FormatError } from '../FormatError';

interface Seen {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

async function look(path: string): Promise<Seen | undefined> {
  try {
    const s = await stat(path);
    return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
  } catch {
    return undefined;
  }
}

/**
 * Notices that the files a long job reads were changed, replaced or deleted while it ran. An
 * open handle on Linux keeps reading the old bytes of a replaced or deleted file, and an edit in
 * place mixes old and new bytes, so the job's result would describe a file that no longer
 * exists; the guard turns that into an error naming the file, and nothing is cached.
 */
export class FileChangeGuard {
  private lastCheck = 0;

  private constructor(private readonly seen: ReadonlyMap<string, Seen>, private readonly doing: string) {}

  /**
   * Records the size, modification time and inode of each of `paths` that exists now. `doing`
   * names the job in messages: `profiled` gives "… changed while it was being profiled".
   */
  static async watch(paths: Iterable<string>, doing: string): Promise<FileChangeGuard> {
    const seen = new Map<string, Seen>();
    for (const path of new Set(paths)) {
      const s = await look(path);
      // A file missing from the start is for the reader to name, with its own message.
      if (s) seen.set(path, s);
    }
    return new FileChangeGuard(seen, doing);
  }

  /** Throws a {@link FormatError} naming the first file that is gone or different. */
  async check(): Promise<void> {
    this.lastCheck = performance.now();
    for (const [path, then] of this.seen) {
      const now = await look(path);
      if (!now) throw new FormatError(`${path} was deleted while it was being ${this.doing}; the job was stopped`);
      if (now.ino !== then.ino) throw new FormatError(`${path} was replaced while it was being ${this.doing}; the job was stopped, run it again on the new file`);
      if (now.size !== then.size || now.mtimeMs !== then.mtimeMs) {
        const sizes = now.size === then.size ? '' : ` (${then.size} → ${now.size} bytes)`;
        throw new FormatError(`${path} changed while it was being ${this.doing}${sizes}; the job was stopped, run it again on the new file`);
      }
    }
  }

  /** {@link check}, at most once per `intervalMs`, for loops over many small items. */
  async checkEvery(intervalMs: number): Promise<void> {
    if (performance.now() - this.lastCheck >= intervalMs) await this.check();
  }
}
