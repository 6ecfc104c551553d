import { FormatError } from '../FormatError';

/** A config's JSON object as typed, validated fields; every problem names the file and the key. */
export class ConfigFields {
  constructor(
    /** What the user sees as the config's name (`config.json`, `params.json`, the GGUF file). */
    readonly file: string,
    private readonly values: Readonly<Record<string, unknown>>,
    private readonly format = 'config',
  ) {}

  /** A FormatError about this config. */
  fail(message: string): FormatError {
    return new FormatError(`${this.file}: ${message}`, { format: this.format });
  }

  /** True when `key` is present and not null. */
  has(key: string): boolean {
    return this.values[key] !== undefined && this.values[key] !== null;
  }

  /** The raw value of `key`. */
  raw(key: string): unknown {
    return this.values[key];
  }

  /** A positive integer; `fallback` when absent (required when there is none). */
  int(key: string, fallback?: number): number {
    const v = this.values[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) throw this.fail(`${key} is missing`);
      return fallback;
    }
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw this.fail(`${key} must be a positive integer, not ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`);
    return n;
  }

  /** A positive finite number; `fallback` when absent (required when there is none). */
  positive(key: string, fallback?: number): number {
    const v = this.values[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) throw this.fail(`${key} is missing`);
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw this.fail(`${key} must be a positive number, not ${JSON.stringify(v)}`);
    return v;
  }

  /** A boolean; `fallback` when absent. */
  bool(key: string, fallback: boolean): boolean {
    const v = this.values[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw this.fail(`${key} must be true or false, not ${JSON.stringify(v)}`);
    return v;
  }

  /** A string, or undefined when absent. */
  string(key: string): string | undefined {
    const v = this.values[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw this.fail(`${key} must be a string, not ${JSON.stringify(v)}`);
    return v;
  }
}
