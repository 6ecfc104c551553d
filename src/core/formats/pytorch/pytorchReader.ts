import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import { ZipArchive } from '../../io/ZipArchive';
import type { Checkpoint } from '../Checkpoint';
import type { FormatReader, OpenLimits } from '../FormatReader';
import { hasLegacyMagic, readTorchLegacy } from './readTorchLegacy';
import { findDataPickle, readTorchZip } from './readTorchZip';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function isZip(head: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => head[i] === b);
}

/**
 * The PyTorch {@link FormatReader}: `torch.save` zip checkpoints, TorchScript archives and the
 * legacy pre-zip format, all through a restricted unpickler that never executes anything.
 */
export const pytorchReader: FormatReader = {
  name: 'pytorch',
  async sniff(head: Uint8Array, file: FileAccessor): Promise<boolean> {
    if (hasLegacyMagic(head)) return true;
    if (!isZip(head)) return false;
    // npz files are zips too: only a data.pkl makes it a torch checkpoint.
    try {
      const zip = await ZipArchive.open(file);
      try {
        return findDataPickle(zip) !== undefined;
      } finally {
        zip.close();
      }
    } catch {
      return false;
    }
  },
  async open(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
    const head = await file.read(0, Math.min(file.size, 64), undefined, 'file header');
    if (isZip(head)) return readTorchZip(file, limits);
    if (hasLegacyMagic(head)) return readTorchLegacy(file, limits);
    throw new FormatError(`${file.path} is not a PyTorch checkpoint: it is neither a torch zip archive nor a legacy torch.save file`, { format: 'pytorch' });
  },
};
