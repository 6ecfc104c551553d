import type { FileAccessor } from '../io/FileAccessor';
import type { Checkpoint, FormatName } from './Checkpoint';

/** Limits a reader enforces before it allocates anything a header asks for. */
export interface OpenLimits {
  /** Largest header / metadata block we agree to read into memory, in bytes. */
  readonly maxHeaderBytes: number;
  /** Largest number of tensors, metadata entries or array elements a header may declare. */
  readonly maxEntries: number;
}

/** Defaults chosen so that a real 70B checkpoint passes and a lying header fails fast. */
export const DEFAULT_LIMITS: OpenLimits = { maxHeaderBytes: 512 * 1024 * 1024, maxEntries: 10_000_000 };

/**
 * One format, Netron-style: a cheap sniff on the first bytes, and an open that reads only the
 * header and index. Each reader lives in its own folder under `src/core/formats/`.
 */
export interface FormatReader {
  readonly name: FormatName;
  /**
   * True when the file is this format. `head` holds the first bytes of the file (up to 4 KiB, less
   * for small files). Decide by content; the path only breaks ties between container formats.
   */
  sniff(head: Uint8Array, file: FileAccessor): boolean | Promise<boolean>;
  /** Lists the checkpoint. Throws {@link FormatError} for anything malformed. */
  open(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint>;
}
