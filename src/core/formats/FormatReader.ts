import type { FileAccessor } from '../io/FileAccessor';
import type { OpenLimits } from '../io/OpenLimits';
import type { Checkpoint, FormatName } from './Checkpoint';

// The limits belong to the io layer, which zip archives use as well; readers take them from there.
export { DEFAULT_LIMITS, type OpenLimits } from '../io/OpenLimits';

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
