import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import { ZipArchive, type ZipEntry } from '../../io/ZipArchive';
import type { Checkpoint, MetadataValue, TensorInfo } from '../Checkpoint';
import type { OpenLimits } from '../FormatReader';
import { collectTensors } from './collectTensors';
import { parseStorageId } from './parseStorageId';
import type { TorchStorage } from './torchGlobals';
import { findTorchGlobal } from './torchGlobals';
import { torchTensorInfo } from './torchTensorInfo';
import { Unpickler } from './Unpickler';

/** Small text members (`version`, `byteorder`) are read only up to this size. */
const MAX_TEXT_MEMBER = 64;

/** The `data.pkl` of a torch zip: at the root or in the single top folder torch names after the file. */
export function findDataPickle(zip: ZipArchive): ZipEntry | undefined {
  let best: ZipEntry | undefined;
  for (const e of zip.entries) {
    if (e.name !== 'data.pkl' && !/^[^/]+\/data\.pkl$/.test(e.name)) continue;
    if (!best || e.name.length < best.name.length) best = e;
  }
  return best;
}

async function text(zip: ZipArchive, name: string): Promise<string | undefined> {
  const e = zip.entry(name);
  if (!e || e.uncompressedSize > MAX_TEXT_MEMBER) return undefined;
  return new TextDecoder().decode(await zip.read(e, MAX_TEXT_MEMBER)).trim();
}

/**
 * Lists a `torch.save` zip checkpoint or a TorchScript archive. The pickles (`data.pkl`, and for
 * TorchScript `constants.pkl`) are read through the restricted unpickler; each tensor points at
 * its slice of the storage member `data/KEY` (or `constants/KEY`). Code in `code/` is never read.
 */
export async function readTorchZip(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
  const zip = await ZipArchive.open(file, limits);
  try {
    const data = findDataPickle(zip);
    if (!data) throw new FormatError(`${file.path} is a zip file but not a PyTorch checkpoint (it has no data.pkl)`, { format: 'pytorch' });
    const prefix = data.name.slice(0, -'data.pkl'.length);
    const torchscript = zip.entries.some((e) => e.name.startsWith(`${prefix}code/`)) || zip.entry(`${prefix}constants.pkl`) !== undefined;
    const byteorder = (await text(zip, `${prefix}byteorder`)) ?? 'little';
    if (byteorder !== 'little' && byteorder !== 'big') throw new FormatError(`unknown byte order ${JSON.stringify(byteorder)} in ${file.path}`, { format: 'pytorch' });
    const tensors: TensorInfo[] = [];
    let values: Record<string, MetadataValue> = {};
    const pickles = torchscript && zip.entry(`${prefix}constants.pkl`) ? ['data', 'constants'] : ['data'];
    for (const archive of pickles) {
      const entry = zip.entry(`${prefix}${archive}.pkl`);
      if (!entry) continue;
      const found = await unpickleArchive(zip, entry, `${prefix}${archive}/`, limits);
      const locate = (storage: TorchStorage, byteOffset: number, byteLength: number) => {
        const member = zip.entry(`${prefix}${archive}/${storage.key}`);
        if (!member) throw new FormatError(`storage ${storage.key} is missing from ${file.path}`, { format: 'pytorch' });
        if (byteOffset + byteLength > member.uncompressedSize) {
          throw new FormatError(`a tensor spans bytes ${byteOffset}..${byteOffset + byteLength} of storage ${storage.key}, which has ${member.uncompressedSize}`, { format: 'pytorch' });
        }
        return member.method === 'stored'
          ? { kind: 'file' as const, path: file.path, offset: member.dataOffset + byteOffset, length: byteLength }
          : { kind: 'zip' as const, path: file.path, member: member.name, offset: byteOffset, length: byteLength };
      };
      for (const { name, tensor } of found.tensors) {
        if (tensors.length >= limits.maxEntries) throw new FormatError(`the checkpoint has more than ${limits.maxEntries} tensors`, { format: 'pytorch' });
        tensors.push(torchTensorInfo(archive === 'data' ? name : `constants.${name}`, tensor, locate, byteorder === 'little'));
      }
      if (archive === 'data') values = found.scalars;
    }
    const metadata: Record<string, MetadataValue> = {
      variant: torchscript ? 'torchscript' : 'zip',
      archive: prefix.replace(/\/$/, ''),
      byteorder,
      serialization_version: (await text(zip, `${prefix}version`)) ?? '',
      values,
    };
    return { format: 'pytorch', path: file.path, fileSize: file.size, metadata, tensors };
  } finally {
    zip.close();
  }
}

async function unpickleArchive(zip: ZipArchive, entry: ZipEntry, folder: string, limits: OpenLimits): Promise<ReturnType<typeof collectTensors>> {
  const bytes = await zip.read(entry, limits.maxHeaderBytes);
  const storages = new Map<string, TorchStorage>();
  const unpickler = new Unpickler(bytes, {
    findGlobal: findTorchGlobal,
    label: entry.name,
    maxObjects: limits.maxEntries,
    persistentLoad: (pid) => {
      const { storage } = parseStorageId(pid);
      const known = storages.get(storage.key);
      if (known) {
        if (known.dtype !== storage.dtype) throw new FormatError(`storage ${storage.key} is referenced with two dtypes`, { format: 'pytorch' });
        return known;
      }
      const member = zip.entry(`${folder}${storage.key}`);
      if (!member) throw new FormatError(`storage ${storage.key} is missing from the archive (no ${folder}${storage.key})`, { format: 'pytorch' });
      if (storage.numel * storage.itemSize > member.uncompressedSize) {
        throw new FormatError(`storage ${storage.key} declares ${storage.numel} elements but its member holds ${member.uncompressedSize} bytes`, { format: 'pytorch' });
      }
      storages.set(storage.key, storage);
      return storage;
    },
  });
  return collectTensors(unpickler.load(), limits.maxEntries);
}
