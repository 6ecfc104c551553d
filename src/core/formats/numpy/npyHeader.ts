import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import type { DType } from '../../tensor/DType';
import { formatBytes, formatCount } from '../../tensor/formatBytes';
import type { OpenLimits } from '../FormatReader';
import { parsePythonLiteral, type PyValue } from './pythonLiteral';

/** The magic string every .npy file starts with. */
export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** What an .npy header says about its array. */
export interface NpyHeader {
  readonly dtype: DType;
  /** The descr as written, such as `<f4`. */
  readonly descr: string;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  readonly elements: number;
  readonly itemSize: number;
  /** Offset of the first data byte from the start of the .npy stream. */
  readonly dataOffset: number;
  /** Set for arrays with no numeric reading (strings). */
  readonly unreadable?: string;
}

const fail = (message: string): FormatError => new FormatError(message, { format: 'numpy' });

/** True when `head` starts with the .npy magic. */
export function hasNpyMagic(head: Uint8Array): boolean {
  return head.byteLength >= 6 && NPY_MAGIC.every((b, i) => head[i] === b);
}

/**
 * Bytes of the magic, version and header-length prefix, and the header length itself, for the
 * given first 10 bytes of an .npy stream.
 */
export function npyPrefix(first: Uint8Array): { readonly prefix: number; readonly headerBytes: number; readonly major: number } {
  if (!hasNpyMagic(first)) throw fail('the data does not start with the .npy magic \\x93NUMPY');
  if (first.byteLength < 10) throw fail('the .npy header is truncated');
  const major = first[6];
  const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
  if (major === 1) return { prefix: 10, headerBytes: view.getUint16(8, true), major };
  if (major === 2 || major === 3) {
    if (first.byteLength < 12) throw fail('the .npy header is truncated');
    return { prefix: 12, headerBytes: view.getUint32(8, true), major };
  }
  throw fail(`.npy format version ${major}.${first[7]} is not one numpy has defined (1.0, 2.0, 3.0)`);
}

const PLAIN: Readonly<Record<string, DType>> = {
  b1: 'BOOL', '?': 'BOOL', i1: 'I8', i2: 'I16', i4: 'I32', i8: 'I64', u1: 'U8', u2: 'U16', u4: 'U32', u8: 'U64',
  f2: 'F16', f4: 'F32', f8: 'F64', c8: 'C64', c16: 'C128', b: 'I8', B: 'U8', h: 'I16', H: 'U16', e: 'F16', f: 'F32', d: 'F64',
};
const SIZES: Readonly<Record<string, number>> = { b: 1, B: 1, h: 2, H: 2, e: 2, f: 4, d: 8, '?': 1 };

function parseDescr(descr: PyValue): { dtype: DType; littleEndian: boolean; itemSize: number; unreadable?: string } {
  if (typeof descr !== 'string') throw fail('structured (record) arrays are not supported: the header declares a list of fields');
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!m) throw fail(`dtype ${JSON.stringify(descr.slice(0, 40))} is not one numpy writes`);
  const [, order, kind, digits] = m;
  const littleEndian = order !== '>';
  if (kind === 'U' || kind === 'S' || kind === 'a') {
    const n = Number(digits || '0');
    const itemSize = kind === 'U' ? n * 4 : n;
    return { dtype: 'STRING', littleEndian, itemSize, unreadable: 'string arrays have no numeric values' };
  }
  if (kind === 'O') throw fail('object arrays hold pickled Python objects, which Quantscope never loads');
  const key = digits ? kind + digits : kind;
  const dtype = PLAIN[key];
  if (!dtype) throw fail(`dtype ${descr} is not supported`);
  const itemSize = digits ? Number(digits) : SIZES[kind];
  return { dtype, littleEndian, itemSize };
}

/**
 * Parses an .npy header: `bytes` holds the whole prefix and header dict. `available`
 * is how many bytes the stream has, so a shape that needs more data than exists is refused.
 */
export function parseNpyHeader(bytes: Uint8Array, prefix: number, headerBytes: number, major: number, available: number): NpyHeader {
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: major === 3 }).decode(bytes.subarray(prefix, prefix + headerBytes));
  } catch {
    throw fail('the .npy header is not valid UTF-8');
  }
  const dict = parsePythonLiteral(text.replace(/[\s\0]+$/, ''));
  if (!(dict instanceof Map)) throw fail('the .npy header is not a dict');
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shapeValue = dict.get('shape');
  if (descr === undefined || fortran === undefined || shapeValue === undefined) throw fail("the .npy header lacks one of 'descr', 'fortran_order', 'shape'");
  if (typeof fortran !== 'boolean') throw fail("'fortran_order' is not True or False");
  if (!Array.isArray(shapeValue)) throw fail("'shape' is not a tuple");
  if (shapeValue.length > 64) throw fail(`'shape' has ${shapeValue.length} dimensions`);
  const shape: number[] = [];
  let elements = 1;
  for (const d of shapeValue) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw fail(`'shape' holds ${typeof d === 'number' || typeof d === 'bigint' || typeof d === 'string' ? String(d) : 'a non-number'}, not a dimension`);
    shape.push(d);
    elements *= d;
  }
  const { dtype, littleEndian, itemSize, unreadable } = parseDescr(descr);
  const dataOffset = prefix + headerBytes;
  const bytesNeeded = elements * itemSize;
  if (!Number.isSafeInteger(bytesNeeded) || bytesNeeded > available - dataOffset) {
    throw fail(`header declares shape (${shape.join(', ')}) of ${typeof descr === 'string' ? descr : ''} (${formatCount(Number.isFinite(bytesNeeded) ? Math.min(bytesNeeded, 2 ** 63) : 2 ** 63)} bytes) but only ${formatBytes(Math.max(0, available - dataOffset))} follow the header`);
  }
  if (!Number.isSafeInteger(elements)) throw fail(`'shape' (${shape.join(', ')}) holds too many elements`);
  const base = { dtype, descr: descr as string, littleEndian, fortranOrder: fortran, shape, elements, itemSize, dataOffset };
  return unreadable ? { ...base, unreadable } : base;
}

/** Reads and parses the header of an .npy stream that starts at `start` in `file` (a whole .npy, or a stored npz member). */
export async function readNpyHeader(file: FileAccessor, start: number, available: number, limits: OpenLimits): Promise<NpyHeader> {
  if (available < 10) throw fail(available === 0 ? 'the file is empty' : 'the .npy header is truncated');
  const first = await file.read(start, Math.min(12, available), undefined, '.npy prefix');
  const { prefix, headerBytes, major } = npyPrefix(first);
  if (prefix + headerBytes > available) throw fail(`header declares ${formatBytes(headerBytes)} but only ${formatBytes(available - prefix)} follow`);
  if (headerBytes > limits.maxHeaderBytes) throw fail(`header declares ${formatBytes(headerBytes)}, more than the limit`);
  const bytes = await file.read(start, prefix + headerBytes, undefined, '.npy header');
  return parseNpyHeader(bytes, prefix, headerBytes, major, available);
}
