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
  constructor(private readonly dir: string, private readonly maxBytes: () => number) {}

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

  /** The cached value, or undefined. A hit marks the entry as recently used. */
  async get<T>(key: CacheKey): Promise<T | undefined> {
    if (this.maxBytes() <= 0) return undefined;
    const f = this.file(key);
    try {
      const text = await readFile(f, 'utf8');
      const now = new Date();
      await utimes(f, now, now).catch(() => undefined);
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
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
