import { ConfigFields } from '../decoder/ConfigFields';
import type { FormatError } from '../FormatError';
import type { FieldOrigin } from '../../protocol/servingTypes';

/** A value derived from somewhere other than the file's own keys (tensor shapes, the graph), with what it came from. */
export interface Inference {
  readonly value: number;
  readonly from: string;
}

/**
 * Looks each architecture field up under the keys different model families use, then in what the
 * weights show, then a default; and records which of the three gave it, for the user to see.
 * A required field found nowhere is an error that names the field and the keys looked for.
 */
export class FieldResolver {
  readonly fields: Record<string, FieldOrigin> = {};
  /** The decoder builder's typed reads, which check each value and name its key. */
  private readonly config: ConfigFields;

  constructor(
    /** How messages name the source (`config.json`, `model.gguf llama.*`). */
    readonly file: string,
    private readonly values: Readonly<Record<string, unknown>>,
    format: string,
  ) {
    this.config = new ConfigFields(file, values, format);
  }

  /** A FormatError about this source. */
  fail(message: string): FormatError {
    return this.config.fail(message);
  }

  /** The first of `keys` present and not null. */
  key(keys: readonly string[]): string | undefined {
    return keys.find((k) => this.values[k] !== undefined && this.values[k] !== null);
  }

  /** The raw value of `key`. */
  raw(key: string): unknown {
    return this.values[key];
  }

  /** Records a field's origin for a value the caller worked out itself. */
  note(field: string, origin: FieldOrigin['origin'], from: string): void {
    this.fields[field] = { origin, from };
  }

  private positiveInt(key: string): number {
    const v = this.values[key];
    // GGUF stores some sizes per layer (head counts of hybrid models): the largest one bounds memory.
    if (Array.isArray(v)) return new ConfigFields(this.file, { [key]: Math.max(...v.map(Number)) }).int(key);
    return this.config.int(key);
  }

  /** An integer field: the first key present, else the inference, else `fallback`; required when neither gives one. */
  int(field: string, keys: readonly string[], inferred?: Inference, fallback?: { readonly value: number; readonly why: string }): number {
    const k = this.key(keys);
    if (k !== undefined) {
      this.note(field, 'read', k);
      return this.positiveInt(k);
    }
    if (inferred) {
      this.note(field, 'inferred', inferred.from);
      return inferred.value;
    }
    if (fallback) {
      this.note(field, 'default', fallback.why);
      return fallback.value;
    }
    const also = keys.length > 1 ? ` (looked for ${keys.join(', ')})` : '';
    throw this.fail(`${keys[0]} is missing${also}; the ${field.replace(/[A-Z]/g, (c) => ' ' + c.toLowerCase())} is needed to plan memory`);
  }

  /** An optional integer field: undefined (and unrecorded) when nothing gives it. */
  optionalInt(field: string, keys: readonly string[], inferred?: Inference): number | undefined {
    if (this.key(keys) === undefined && !inferred) return undefined;
    return this.int(field, keys, inferred);
  }

  /** A positive number, or undefined. */
  number(field: string, keys: readonly string[]): number | undefined {
    const k = this.key(keys);
    if (k === undefined) return undefined;
    const v = this.config.positive(k);
    this.note(field, 'read', k);
    return v;
  }

  /** A boolean field, or `fallback` (recorded as a default with `why`). */
  bool(field: string, keys: readonly string[], fallback: boolean, why: string): boolean {
    const k = this.key(keys);
    if (k === undefined) {
      this.note(field, 'default', why);
      return fallback;
    }
    const v = this.config.bool(k, fallback);
    this.note(field, 'read', k);
    return v;
  }

  /** A string, or undefined. */
  string(keys: readonly string[]): string | undefined {
    const k = this.key(keys);
    return k === undefined ? undefined : this.config.string(k);
  }
}
