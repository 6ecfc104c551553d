/** Limits a reader enforces before it allocates anything a header asks for. */
export interface OpenLimits {
  /** Largest header / metadata block we agree to read into memory, in bytes. */
  readonly maxHeaderBytes: number;
  /** Largest number of tensors, metadata entries or array elements a header may declare. */
  readonly maxEntries: number;
}

/** Defaults chosen so that a real 70B checkpoint passes and a lying header fails fast. */
export const DEFAULT_LIMITS: OpenLimits = { maxHeaderBytes: 512 * 1024 * 1024, maxEntries: 10_000_000 };
