import { FormatError } from '../FormatError';
import { dtypeBytes, type DType } from './DType';
import { e4m3Lookup, e5m2Lookup, f16Lookup } from './floatTables';

/** The arrays values are decoded into. */
export type FloatArray = Float32Array | Float64Array;

/** Dtypes whose values {@link decodeElements} can turn into numbers. */
const DECODABLE = new Set<string>(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL']);

/** True when `dtype` is a plain (one value per element) type that {@link decodeElements} handles. */
export function isDecodablePlain(dtype: DType): boolean {
  return DECODABLE.has(dtype);
}

// Reused between calls so bf16 can be widened to float64 without an allocation per chunk.
let bf16Scratch = new Float32Array(0);

/**
 * Big-endian input: DataView reads take the byte order as an argument, and V8 compiles them to
 * plain loads, which beats swapping into a copy.
 */
function decodeWithView(dtype: DType, littleEndian: boolean, bytes: Uint8Array, count: number, out: FloatArray): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = littleEndian;
  switch (dtype) {
    case 'F32': for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, le); return;
    case 'F64': for (let i = 0; i < count; i++) out[i] = v.getFloat64(8 * i, le); return;
    case 'I16': for (let i = 0; i < count; i++) out[i] = v.getInt16(2 * i, le); return;
    case 'U16': for (let i = 0; i < count; i++) out[i] = v.getUint16(2 * i, le); return;
    case 'I32': for (let i = 0; i < count; i++) out[i] = v.getInt32(4 * i, le); return;
    case 'U32': for (let i = 0; i < count; i++) out[i] = v.getUint32(4 * i, le); return;
    case 'F16': {
      const table = f16Lookup();
      for (let i = 0; i < count; i++) out[i] = table[v.getUint16(2 * i, le)];
      return;
    }
    case 'BF16': {
      const f = new Float32Array(1);
      const u = new Uint32Array(f.buffer);
      for (let i = 0; i < count; i++) {
        u[0] = v.getUint16(2 * i, le) << 16;
        out[i] = f[0];
      }
      return;
    }
    case 'I64':
    case 'U64': {
      const hiAt = le ? 4 : 0;
      const loAt = le ? 0 : 4;
      for (let i = 0; i < count; i++) {
        const hi = dtype === 'I64' ? v.getInt32(8 * i + hiAt, le) : v.getUint32(8 * i + hiAt, le);
        out[i] = hi * 4294967296 + v.getUint32(8 * i + loAt, le);
      }
      return;
    }
    default:
      throw new FormatError(`values of dtype ${dtype} cannot be decoded to numbers`);
  }
}

/**
 * Decodes the first `count` elements of `bytes` (stored as `dtype`, in the given byte order) into
 * `out[0..count)`. `bytes` must hold at least `count` elements. Integers become their numeric
 * value, BOOL becomes 0 or 1, and 64-bit integers are rounded to the nearest double first.
 */
export function decodeElements(dtype: DType, littleEndian: boolean, bytes: Uint8Array, count: number, out: FloatArray): void {
  const size = dtypeBytes(dtype);
  if (size === undefined || !DECODABLE.has(dtype)) throw new FormatError(`values of dtype ${dtype} cannot be decoded to numbers`);
  if (count === 0) return;
  if (size > 1 && !littleEndian) return decodeWithView(dtype, littleEndian, bytes, count, out);
  // Unaligned little-endian bytes (a protobuf field at any offset): one copy into aligned memory
  // costs far less than a DataView read per element.
  if (size > 1 && bytes.byteOffset % size !== 0) {
    if (dtype === 'F32' && out instanceof Float32Array) new Uint8Array(out.buffer, out.byteOffset, 4 * count).set(bytes.subarray(0, 4 * count));
    else {
      // Not bytes.slice: a Node Buffer's slice is a view at the same unaligned offset.
      const aligned = new Uint8Array(count * size);
      aligned.set(bytes.subarray(0, count * size));
      decodeElements(dtype, true, aligned, count, out);
    }
    return;
  }
  const src = bytes.subarray(0, count * size);
  const buf = src.buffer;
  const at = src.byteOffset;
  switch (dtype) {
    case 'F32': out.set(new Float32Array(buf, at, count)); return;
    case 'F64': out.set(new Float64Array(buf, at, count)); return;
    case 'I8': out.set(new Int8Array(buf, at, count)); return;
    case 'U8': out.set(src.subarray(0, count)); return;
    case 'I16': out.set(new Int16Array(buf, at, count)); return;
    case 'U16': out.set(new Uint16Array(buf, at, count)); return;
    case 'I32': out.set(new Int32Array(buf, at, count)); return;
    case 'U32': out.set(new Uint32Array(buf, at, count)); return;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = src[i] !== 0 ? 1 : 0;
      return;
    case 'F16': {
      const table = f16Lookup();
      const h = new Uint16Array(buf, at, count);
      for (let i = 0; i < count; i++) out[i] = table[h[i]];
      return;
    }
    case 'BF16': {
      // bf16 is the top half of a float32: shift the bits into place through a Uint32 view.
      const h = new Uint16Array(buf, at, count);
      let f32: Float32Array;
      if (out instanceof Float32Array) f32 = out;
      else {
        if (bf16Scratch.length < count) bf16Scratch = new Float32Array(count);
        f32 = bf16Scratch;
      }
      const u32 = new Uint32Array(f32.buffer, f32.byteOffset, count);
      for (let i = 0; i < count; i++) u32[i] = h[i] << 16;
      if (f32 !== out) out.set(f32.subarray(0, count));
      return;
    }
    case 'F8_E4M3':
    case 'F8_E5M2': {
      const table = dtype === 'F8_E4M3' ? e4m3Lookup() : e5m2Lookup();
      for (let i = 0; i < count; i++) out[i] = table[src[i]];
      return;
    }
    case 'I64':
    case 'U64': {
      // hi * 2^32 + lo is one correctly rounded double: cheaper than BigInt per element.
      const w = new Uint32Array(buf, at, count * 2);
      const signed = dtype === 'I64';
      for (let i = 0; i < count; i++) {
        const hi = signed ? w[2 * i + 1] | 0 : w[2 * i + 1];
        out[i] = hi * 4294967296 + w[2 * i];
      }
      return;
    }
    default:
      throw new FormatError(`values of dtype ${dtype} cannot be decoded to numbers`);
  }
}
