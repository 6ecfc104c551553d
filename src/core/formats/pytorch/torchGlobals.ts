/**
 * The allow-list of globals a PyTorch checkpoint may name, and the plain data each one builds.
 * Anything else is refused when the pickle names it. Nothing here imports or runs Python: a
 * "rebuild" function only records a tensor's storage, offset, shape and strides.
 *
 * Deliberately refused: `torch.storage._load_from_bytes` (it unpickles a nested legacy checkpoint
 * from bytes, which torch writes only for storages pickled outside `torch.save`), sparse, nested
 * and wrapper-subclass tensors, and every general-purpose Python global (`argparse.Namespace`,
 * `builtins.getattr`, ...).
 */
import { FormatError } from '../../FormatError';
import type { DType } from '../../tensor/DType';
import { PyDict, PyExtension, PyGlobal, PyObject, PyTuple, type PyValue } from './pyValues';

/** A torch dtype named by a global such as `torch.float16`. */
export class TorchDType extends PyExtension {
  readonly kind = 'dtype';
  constructor(readonly dtype: DType, readonly itemSize: number) {
    super();
  }
}

/** One storage of a checkpoint: `numel` elements of `dtype` under `key` (a zip member or legacy record). */
export class TorchStorage extends PyExtension {
  readonly kind = 'storage';
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly itemSize: number,
    readonly numel: number,
    readonly location: string,
    /** Legacy checkpoints may make a storage a view of another: its first element within `key`. */
    readonly elementOffset = 0,
  ) {
    super();
  }
}

/** A tensor as torch rebuilds it: a strided view into a storage, in elements of `dtype`. */
export class TorchTensor extends PyExtension {
  readonly kind = 'tensor';
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    /** Set when the element type differs from the storage's (an untyped storage read as float32). */
    readonly dtype: DType,
    readonly itemSize: number,
  ) {
    super();
  }
}

const STORAGE_TYPES: Readonly<Record<string, [DType, number]>> = {
  DoubleStorage: ['F64', 8], FloatStorage: ['F32', 4], HalfStorage: ['F16', 2], BFloat16Storage: ['BF16', 2],
  LongStorage: ['I64', 8], IntStorage: ['I32', 4], ShortStorage: ['I16', 2], CharStorage: ['I8', 1],
  ByteStorage: ['U8', 1], BoolStorage: ['BOOL', 1], ComplexFloatStorage: ['C64', 8], ComplexDoubleStorage: ['C128', 16],
  QInt8Storage: ['I8', 1], QUInt8Storage: ['U8', 1], QInt32Storage: ['I32', 4],
  UntypedStorage: ['U8', 1],
};

const DTYPE_GLOBALS: Readonly<Record<string, [DType, number]>> = {
  float32: ['F32', 4], float: ['F32', 4], float64: ['F64', 8], double: ['F64', 8], float16: ['F16', 2], half: ['F16', 2],
  bfloat16: ['BF16', 2], int64: ['I64', 8], long: ['I64', 8], int32: ['I32', 4], int: ['I32', 4], int16: ['I16', 2],
  short: ['I16', 2], int8: ['I8', 1], uint8: ['U8', 1], bool: ['BOOL', 1], complex64: ['C64', 8], cfloat: ['C64', 8],
  complex128: ['C128', 16], cdouble: ['C128', 16], float8_e4m3fn: ['F8_E4M3', 1], float8_e5m2: ['F8_E5M2', 1],
  uint16: ['U16', 2], uint32: ['U32', 4], uint64: ['U64', 8],
};

/** Element type of a storage class global (`torch.HalfStorage`, `torch.cuda.FloatStorage`, `torch.UntypedStorage`). */
export function storageType(g: PyValue): [DType, number] | undefined {
  if (!(g instanceof PyGlobal)) return undefined;
  if (g.module !== 'torch' && g.module !== 'torch.cuda' && g.module !== 'torch.storage') return undefined;
  return Object.prototype.hasOwnProperty.call(STORAGE_TYPES, g.name) ? STORAGE_TYPES[g.name] : undefined;
}

function int(v: PyValue | undefined, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new FormatError(`${what} is not an integer`, { format: 'pytorch' });
}

function ints(v: PyValue | undefined, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : undefined;
  if (!items) throw new FormatError(`${what} is not a tuple of integers`, { format: 'pytorch' });
  return items.map((x) => int(x, what));
}

/** `_rebuild_tensor*(storage, storage_offset, size, stride, ...)`: checks the view fits its storage. */
function rebuildTensor(args: PyValue[], dtypeArg?: PyValue): TorchTensor {
  const storage = args[0];
  if (!(storage instanceof TorchStorage)) throw new FormatError('a tensor is rebuilt from something that is not a storage', { format: 'pytorch' });
  const offset = int(args[1], 'tensor storage offset');
  const shape = ints(args[2], 'tensor size');
  const strides = ints(args[3], 'tensor stride');
  if (strides.length !== shape.length) throw new FormatError(`tensor size ${JSON.stringify(shape)} and stride ${JSON.stringify(strides)} differ in rank`, { format: 'pytorch' });
  if (offset < 0 || shape.some((d) => d < 0) || strides.some((s) => s < 0)) {
    throw new FormatError(`tensor has a negative size, stride or offset (${JSON.stringify(shape)}, ${JSON.stringify(strides)}, ${offset})`, { format: 'pytorch' });
  }
  let dtype = storage.dtype;
  let itemSize = storage.itemSize;
  let numel = storage.numel;
  const asType = dtypeGlobal(dtypeArg);
  if (asType && asType.dtype !== storage.dtype) {
    // An untyped (byte) storage read as another dtype: offsets and sizes count that dtype's elements.
    dtype = asType.dtype;
    itemSize = asType.itemSize;
    numel = Math.floor((storage.numel * storage.itemSize) / itemSize);
  }
  let span = shape.some((d) => d === 0) ? 0 : 1;
  if (span) for (let i = 0; i < shape.length; i++) span += (shape[i] - 1) * strides[i];
  if (!Number.isSafeInteger(span) || offset + span > numel) {
    throw new FormatError(`a tensor of size ${JSON.stringify(shape)} at offset ${offset} reaches past its storage of ${numel} elements`, { format: 'pytorch' });
  }
  return new TorchTensor(storage, offset, shape, strides, dtype, itemSize);
}

function tensorArg(v: PyValue | undefined): PyValue {
  if (!(v instanceof TorchTensor)) throw new FormatError('a parameter wraps something that is not a tensor', { format: 'pytorch' });
  return v;
}

function dictFrom(args: PyValue[]): PyDict {
  const d = new PyDict();
  const src = args[0];
  const pairs = src instanceof PyTuple ? src.items : Array.isArray(src) ? src : src instanceof PyDict ? [...src.entries()].map((e) => new PyTuple(e)) : [];
  for (const p of pairs) {
    const kv = p instanceof PyTuple ? p.items : Array.isArray(p) ? p : undefined;
    if (kv?.length === 2) d.set(kv[0], kv[1]);
  }
  return d;
}

function listFrom(v: PyValue | undefined): PyValue[] {
  if (v instanceof PyTuple) return [...v.items];
  if (Array.isArray(v)) return [...v];
  return [];
}

function encode(args: PyValue[]): Uint8Array {
  const s = args[0];
  if (typeof s !== 'string') throw new FormatError('_codecs.encode needs a string', { format: 'pytorch' });
  const enc = typeof args[1] === 'string' ? args[1].toLowerCase().replace(/[-_]/g, '') : 'utf8';
  if (enc === 'latin1' || enc === 'iso88591') {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
    return out;
  }
  return new TextEncoder().encode(s);
}

type Builder = (args: PyValue[]) => PyValue;

/** Callable globals and what they build, by `module.name`. */
const CALLS: Readonly<Record<string, Builder>> = {
  'torch._utils._rebuild_tensor': (a) => rebuildTensor(a),
  'torch._utils._rebuild_tensor_v2': (a) => rebuildTensor(a),
  'torch._utils._rebuild_tensor_v3': (a) => rebuildTensor(a, a[6]),
  // Quantized tensors: listed with their integer storage; scale and zero point are not applied.
  'torch._utils._rebuild_qtensor': (a) => rebuildTensor(a),
  'torch._utils._rebuild_parameter': (a) => tensorArg(a[0]),
  'torch._utils._rebuild_parameter_with_state': (a) => tensorArg(a[0]),
  'torch._tensor._rebuild_from_type_v2': (a) => {
    const fn = a[0];
    if (!(fn instanceof PyGlobal) || !fn.call) throw new FormatError('_rebuild_from_type_v2 names no allowed function', { format: 'pytorch' });
    return fn.call(listFrom(a[2]));
  },
  'collections.OrderedDict': dictFrom,
  'builtins.dict': dictFrom,
  'builtins.set': (a) => listFrom(a[0]),
  'builtins.frozenset': (a) => listFrom(a[0]),
  'builtins.list': (a) => listFrom(a[0]),
  'builtins.tuple': (a) => new PyTuple(listFrom(a[0])),
  'builtins.slice': (a) => new PyTuple(a),
  'builtins.bytearray': (a) => (a[0] instanceof Uint8Array ? a[0] : typeof a[0] === 'string' ? encode([a[0], a[1] ?? 'latin1']) : new Uint8Array(0)),
  'builtins.bytes': (a) => (a[0] instanceof Uint8Array ? a[0] : typeof a[0] === 'string' ? encode(a) : new Uint8Array(0)),
  '_codecs.encode': encode,
  'torch.Size': (a) => new PyTuple(listFrom(a[0])),
  'torch.device': (a) => {
    const type = typeof a[0] === 'string' ? a[0] : 'cpu';
    return typeof a[1] === 'number' ? `${type}:${a[1]}` : type;
  },
  'torch.jit._pickle.restore_type_tag': (a) => a[0] ?? null,
  'torch.jit._pickle.build_intlist': (a) => listFrom(a[0]),
  'torch.jit._pickle.build_doublelist': (a) => listFrom(a[0]),
  'torch.jit._pickle.build_boollist': (a) => listFrom(a[0]),
  'torch.jit._pickle.build_tensorlist': (a) => listFrom(a[0]),
};

/** Classes that become opaque records: their arguments and BUILD state are kept as data. */
const RECORDS = new Set([
  'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct', 'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar', 'numpy.dtype', 'numpy.ndarray',
]);

/** Names that may appear as plain data (arguments of other calls) but are never called. */
const MARKERS = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter', 'torch.storage.TypedStorage']);

const ALIASES: Readonly<Record<string, string>> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

const cache = new Map<string, PyGlobal>();
const dtypeOf = new WeakMap<PyGlobal, TorchDType>();

/**
 * The global `module.name` if the allow-list has it; otherwise a {@link FormatError}
 * `refusing to load global module.name`. TorchScript's own classes (`__torch__.*`) are accepted
 * as records of attributes: they name compiled TorchScript, which we never run.
 */
export function findTorchGlobal(module: string, name: string): PyGlobal {
  const mod = ALIASES[module] ?? module;
  const key = `${mod}.${name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let g: PyGlobal | undefined;
  if (Object.prototype.hasOwnProperty.call(CALLS, key)) {
    g = new PyGlobal(mod, name, CALLS[key]);
  } else if (RECORDS.has(key) || mod === '__torch__' || mod.startsWith('__torch__.')) {
    const cls: PyGlobal = new PyGlobal(mod, name, (args) => new PyObject(cls, args));
    g = cls;
  } else if (MARKERS.has(key) || storageType(new PyGlobal(mod, name)) !== undefined) {
    g = new PyGlobal(mod, name);
  } else if (mod === 'torch' && Object.prototype.hasOwnProperty.call(DTYPE_GLOBALS, name)) {
    const [dtype, size] = DTYPE_GLOBALS[name];
    g = new PyGlobal(mod, name, () => new TorchDType(dtype, size));
    dtypeOf.set(g, new TorchDType(dtype, size));
  }
  if (!g) {
    const why = key === 'torch.storage._load_from_bytes' ? ': it loads a nested pickle from bytes, which this reader does not do' : '';
    throw new FormatError(`refusing to load global ${module}.${name}${why}`, { format: 'pytorch' });
  }
  cache.set(key, g);
  return g;
}

/** The dtype a `torch.float16`-style global stands for, when `v` is one. */
export function dtypeGlobal(v: PyValue | undefined): TorchDType | undefined {
  return v instanceof PyGlobal ? dtypeOf.get(v) : v instanceof TorchDType ? v : undefined;
}
