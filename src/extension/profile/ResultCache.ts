import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** What identifies a cached result: the file as it is now, and the settings that shaped the result. */
export interface CacheKey {
  readonly kind: string;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly settings: Readonly<Record<string, unknown>>;
}

/**
 * Results of long jobs (profiles, calibrations) as JSON files in the extension's global storage,
 * keyed by path, size, mtime and settings, so reopening a model is instant. Least recently used
 * entries are evicted once the folder exceeds its size limit.
 */
export class ResultCache {
  /** Entries already reported as unreadable, so a file that cannot be removed is reported once. */
  private readonly reported = new Set<string>();

  /**
   * @param dir the folder of the entries
   * @param maxBytes the size limit, read at each store; 0 turns the cache off
   * @param log where an unreadable entry or a result not stored is reported
   */
  constructor(private readonly dir: string, private readonly maxBytes: () => number, private readonly log: (message: string) => void = () => undefined) {}

  /** The cache key of `path` as it is on disk now. */
  static async keyFor(kind: string, path: string, settings: Readonly<Record<string, unknown>>): Promise<CacheKey> {
    const s = await stat(path);
    return { kind, path, size: s.size, mtimeMs: s.mtimeMs, settings };
  }

  /**
   * Where `key`'s entry lives, and its name: the id the worker keeps the same result under, so a
   * worker restarted since can read the entry itself instead of being sent the result.
   */
  locate(key: CacheKey): { readonly id: string; readonly file: string } {
    const digest = createHash('sha256').update(JSON.stringify([key.kind, key.path, key.size, key.mtimeMs, key.settings])).digest('hex');
    const id = `${key.kind}-${digest.slice(0, 32)}`;
    return { id, file: join(this.dir, `${id}.json`) };
  }

  private file(key: CacheKey): string {
    return this.locate(key).file;
  }

  /**
   * The cached value, or undefined. A hit marks the entry as recently used. An entry that is not
   * JSON (cut short by a crash or a full disk, or damaged) or that `isValid` rejects is removed
   * and reported once in the log; the caller then computes the result again.
   */
  async get<T>(key: CacheKey, isValid: (value: unknown) => value is T = (v): v is T => v !== undefined): Promise<T | undefined> {
    if (this.maxBytes() <= 0) return undefined;
    const f = this.file(key);
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch {
      return undefined;
    }
    let value: unknown;
    let problem: string | undefined;
    try {
      value = JSON.parse(text);
      if (!isValid(value)) problem = 'it does not hold the expected result';
    } catch (e) {
      problem = `it is not valid JSON (${e instanceof Error ? e.message : String(e)})`;
    }
    if (problem !== undefined) {
      await rm(f, { force: true }).catch(() => undefined);
      if (!this.reported.has(f)) {
        this.reported.add(f);
        this.log(`ignored the cached ${key.kind} result of ${key.path} (${f}): ${problem}, so it was removed and is computed again`);
      }
      return undefined;
    }
    const now = new Date();
    await utimes(f, now, now).catch(() => undefined);
    return value as T;
  }

  /**
   * Stores `value` only if the file is still as `key` describes it (same size and modification
   * time): a result computed while the file changed describes neither version. Returns whether
   * it was stored.
   */
  async setIfUnchanged(key: CacheKey, value: unknown): Promise<boolean> {
    const now = await ResultCache.keyFor(key.kind, key.path, key.settings).catch(() => undefined);
    if (!now || now.size !== key.size || now.mtimeMs !== key.mtimeMs) {
      this.log(`did not cache the ${key.kind} result of ${key.path}: the file ${now ? 'changed' : 'was deleted'} while it was computed`);
      return false;
    }
    await this.set(key, value);
    return true;
  }

  /** Stores `value`, then evicts old entries beyond the size limit. */
  async set(key: CacheKey, value: unknown): Promise<void> {
    const max = this.maxBytes();
    if (max <= 0) return;
    await mkdir(this.dir, { recursive: true });
    const f = this.file(key);
    const tmp = `${f}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, f);
    await this.evict(max);
  }

  private async evict(max: number): Promise<void> {
    const entries = await Promise.all(
      (await readdir(this.dir)).filter((n) => n.endsWith('.json')).map(async (n) => {
        const s = await stat(join(this.dir, n)).catch(() => undefined);
        return { path: join(this.dir, n), size: s?.size ?? 0, used: s?.mtimeMs ?? 0 };
      }),
    );
    let total = entries.reduce((n, e) => n + e.size, 0);
    for (const e of entries.sort((a, b) => a.used - b.used)) {
      if (total <= max) break;
      await rm(e.path, { force: true });
      total -= e.size;
    }
  }
}
