import { FormatError } from '../../FormatError';
import { PyGlobal, PyTuple, type PyValue } from './pyValues';
import { storageType, TorchStorage } from './torchGlobals';

/** A parsed persistent id `('storage', storage_type, key, location, numel[, view_metadata])`. */
export interface StorageId {
  readonly typeName: string;
  readonly storage: TorchStorage;
  /** Legacy view metadata: `(view_key, offset, size)` of a storage that is a slice of `storage.key`. */
  readonly view: { readonly key: string; readonly offset: number; readonly numel: number } | undefined;
}

function str(v: PyValue | undefined, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new FormatError(`a storage reference has a bad ${what}`, { format: 'pytorch' });
}

function count(v: PyValue | undefined, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw new FormatError(`a storage reference has a bad ${what}`, { format: 'pytorch' });
}

/** Parses torch's storage persistent id; anything else is a {@link FormatError}. */
export function parseStorageId(pid: PyValue): StorageId {
  const items = pid instanceof PyTuple ? pid.items : Array.isArray(pid) ? pid : undefined;
  if (!items || items[0] !== 'storage' || items.length < 5) {
    throw new FormatError('the pickle refers to external data that is not a torch storage', { format: 'pytorch' });
  }
  const type = items[1];
  const st = storageType(type);
  if (!st || !(type instanceof PyGlobal)) {
    throw new FormatError(`unknown storage type ${type instanceof PyGlobal ? type.qualifiedName : typeof type}`, { format: 'pytorch' });
  }
  const key = str(items[2], 'key');
  const location = str(items[3], 'location');
  const numel = count(items[4], 'element count');
  let view: StorageId['view'];
  const meta = items[5];
  if (meta instanceof PyTuple || Array.isArray(meta)) {
    const m = meta instanceof PyTuple ? meta.items : meta;
    view = { key: str(m[0], 'view key'), offset: count(m[1], 'view offset'), numel: count(m[2], 'view size') };
  }
  const storage = new TorchStorage(key, st[0], st[1], numel, location);
  return { typeName: type.qualifiedName, storage, view };
}
