import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import type { Checkpoint, MetadataValue, TensorInfo } from '../Checkpoint';
import type { OpenLimits } from '../FormatReader';
import { collectTensors } from './collectTensors';
import { PyDict, type PyValue } from './pyValues';
import { parseStorageId } from './parseStorageId';
import { findTorchGlobal, TorchStorage } from './torchGlobals';
import { torchTensorInfo } from './torchTensorInfo';
import { PickleTruncatedError, Unpickler } from './Unpickler';

/** The first pickle of a legacy checkpoint holds this number. */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
/** The protocol version torch has written since 2017. */
const LEGACY_PROTOCOL = 1001;
/** First guess at the size of the pickles at the start of the file; doubled while too small. */
const FIRST_READ = 64 * 1024;

/** The five pickles at the start of a legacy file and where the storage records begin. */
interface LegacyHeader {
  readonly littleEndian: boolean;
  readonly root: PyValue;
  readonly keys: readonly string[];
  readonly storages: ReadonlyMap<string, TorchStorage>;
  readonly views: { readonly storage: TorchStorage; readonly rootKey: string }[];
  readonly recordsStart: number;
}

function parseHeader(bytes: Uint8Array, limits: OpenLimits, path: string): LegacyHeader {
  const options = { findGlobal: findTorchGlobal, maxObjects: limits.maxEntries };
  let u = new Unpickler(bytes, { ...options, label: 'magic number' });
  const magic = u.load();
  if (magic !== LEGACY_MAGIC) throw new FormatError(`${path} is not a PyTorch checkpoint (no legacy magic number)`, { format: 'pytorch' });
  u = new Unpickler(bytes, { ...options, label: 'protocol version' }, u.offset);
  const protocol = u.load();
  if (protocol !== LEGACY_PROTOCOL) throw new FormatError(`unsupported legacy PyTorch protocol version ${typeof protocol === 'number' ? protocol : 'of unknown form'}`, { format: 'pytorch' });
  u = new Unpickler(bytes, { ...options, label: 'system info' }, u.offset);
  const sysInfo = u.load();
  const littleEndian = !(sysInfo instanceof PyDict && sysInfo.get('little_endian') === false);
  const storages = new Map<string, TorchStorage>();
  const views: { storage: TorchStorage; rootKey: string }[] = [];
  u = new Unpickler(bytes, {
    ...options,
    label: 'object pickle',
    persistentLoad: (pid) => {
      const id = parseStorageId(pid);
      const root = storages.get(id.storage.key) ?? id.storage;
      storages.set(root.key, root);
      if (!id.view) return root;
      // A storage that is a slice of another (torch < 1.0): same bytes, shifted start.
      const v = new TorchStorage(root.key, root.dtype, root.itemSize, id.view.numel, root.location, id.view.offset);
      if (id.view.offset + id.view.numel > root.numel) throw new FormatError(`storage view ${id.view.key} reaches past storage ${root.key}`, { format: 'pytorch' });
      views.push({ storage: v, rootKey: root.key });
      return v;
    },
  }, u.offset);
  const root = u.load();
  u = new Unpickler(bytes, { ...options, label: 'storage keys' }, u.offset);
  const keyList = u.load();
  if (!Array.isArray(keyList) || !keyList.every((k) => typeof k === 'string')) {
    throw new FormatError('the storage key list of the legacy checkpoint is not a list of strings', { format: 'pytorch' });
  }
  return { littleEndian, root, keys: keyList, storages, views, recordsStart: u.offset };
}

/**
 * Lists a legacy (pre-zip) `torch.save` file: magic number, protocol, system info and object
 * pickles, the storage key list, then each storage as an 8-byte little-endian element count and
 * its raw bytes. Offsets come from walking the counts only; storage bytes are never read.
 */
export async function readTorchLegacy(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
  let size = Math.min(file.size, FIRST_READ, limits.maxHeaderBytes);
  let header: LegacyHeader;
  for (;;) {
    const bytes = await file.read(0, size, undefined, 'legacy checkpoint header');
    try {
      header = parseHeader(bytes, limits, file.path);
      break;
    } catch (e) {
      const limit = Math.min(file.size, limits.maxHeaderBytes);
      if (!(e instanceof PickleTruncatedError) || size >= limit) throw e;
      size = Math.min(size * 2, limit);
    }
  }
  // Walk the storage records: each is a count followed by count × element size bytes.
  const starts = new Map<string, number>();
  let pos = header.recordsStart;
  for (const key of header.keys) {
    const storage = header.storages.get(key);
    if (!storage) throw new FormatError(`storage ${key} is listed but no tensor uses it, so its element size is unknown`, { format: 'pytorch' });
    file.checkRange(pos, 8, `the record of storage ${key}`);
    const v = new DataView((await file.read(pos, 8, undefined, `the record of storage ${key}`)).buffer);
    const count = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
    const bytes = count * storage.itemSize;
    if (!Number.isSafeInteger(bytes) || bytes > file.remaining(pos + 8)) {
      throw new FormatError(`storage ${key} declares ${count} elements but the file has only ${file.remaining(pos + 8)} bytes left`, { format: 'pytorch', offset: pos });
    }
    if (count < storage.numel) throw new FormatError(`storage ${key} holds ${count} elements but its tensors expect ${storage.numel}`, { format: 'pytorch', offset: pos });
    starts.set(key, pos + 8);
    pos += 8 + bytes;
  }
  const { tensors: found, scalars } = collectTensors(header.root, limits.maxEntries);
  const tensors: TensorInfo[] = [];
  for (const { name, tensor } of found) {
    if (tensors.length >= limits.maxEntries) throw new FormatError(`the checkpoint has more than ${limits.maxEntries} tensors`, { format: 'pytorch' });
    tensors.push(torchTensorInfo(name, tensor, (storage, byteOffset, byteLength) => {
      const start = starts.get(storage.key);
      if (start === undefined) throw new FormatError(`tensor ${name} uses storage ${storage.key}, which the file does not contain`, { format: 'pytorch' });
      return { kind: 'file', path: file.path, offset: start + byteOffset, length: byteLength };
    }, header.littleEndian));
  }
  const metadata: Record<string, MetadataValue> = {
    variant: 'legacy',
    byteorder: header.littleEndian ? 'little' : 'big',
    storages: header.keys.length,
    values: scalars,
  };
  return { format: 'pytorch', path: file.path, fileSize: file.size, metadata, tensors };
}

/** True when `head` starts with the legacy magic-number pickle. */
export function hasLegacyMagic(head: Uint8Array): boolean {
  try {
    return new Unpickler(head, { findGlobal: findTorchGlobal, maxObjects: 16, label: 'magic number' }).load() === LEGACY_MAGIC;
  } catch {
    return false;
  }
}
