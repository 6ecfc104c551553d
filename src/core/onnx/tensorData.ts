/**
 * The values of a TensorProto as little-endian bytes, whichever field holds them (raw_data or a
 * typed repeated field), and their conversion to and from the typed arrays callers use.
 */
import { FormatError } from '../FormatError';
import { onnxDataType, onnxTypeName } from '../formats/onnx/onnxDataTypes';
import { decodeElements } from '../tensor/decodeElements';
import { ElementType, type TensorMessage } from './onnxMessages';

/** Typed arrays {@link tensorBytesOf} accepts as tensor values (their bytes are taken as stored). */
export type TensorValues =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** The dims of a tensor as numbers; refuses negative or unsafe values. */
export function tensorDims(t: TensorMessage): number[] {
  return (t.dims ?? []).map((d) => {
    const n = Number(d);
    if (!Number.isSafeInteger(n) || n < 0) throw new FormatError(`tensor ${t.name ?? ''} has an invalid dimension ${d}`, { format: 'onnx' });
    return n;
  });
}

/** Number of elements of a tensor (1 for a scalar). */
export function tensorElements(t: TensorMessage): number {
  return tensorDims(t).reduce((a, b) => a * b, 1);
}

/** Bytes the values of `elements` elements of `dataType` take in raw_data (4-bit types pack two per byte). */
export function rawByteLength(dataType: number, elements: number): number {
  const info = onnxDataType(dataType);
  if (!info || info.bytes === 0) throw new FormatError(`tensors of type ${onnxTypeName(dataType)} have no fixed-size raw form`, { format: 'onnx' });
  return info.bytes < 1 ? Math.ceil(elements * info.bytes) : elements * info.bytes;
}

/** True when the tensor keeps its values in another file. */
export function isExternal(t: TensorMessage): boolean {
  return t.dataLocation === 1;
}

function int64ToBytes(values: readonly string[], elements: number, unsigned: boolean): Uint8Array {
  const out = unsigned ? new BigUint64Array(elements) : new BigInt64Array(elements);
  for (let i = 0; i < elements; i++) out[i] = BigInt(values[i]);
  return new Uint8Array(out.buffer);
}

/**
 * The tensor's values as little-endian bytes in raw_data layout, from raw_data or a typed field.
 * External tensors are not read here (see {@link OnnxModel.tensorBytes}); this throws for them.
 */
export function inlineTensorBytes(t: TensorMessage): Uint8Array {
  const name = t.name ?? '';
  if (isExternal(t)) throw new FormatError(`tensor ${name} keeps its data in an external file`, { format: 'onnx' });
  const dataType = t.dataType ?? 0;
  const elements = tensorElements(t);
  if (t.rawData !== undefined) {
    const want = rawByteLength(dataType, elements);
    if (t.rawData.length !== want) {
      throw new FormatError(`tensor ${name} has ${t.rawData.length} bytes of raw data, expected ${want}`, { format: 'onnx' });
    }
    return t.rawData;
  }
  const check = (n: number): void => {
    if (n !== elements) throw new FormatError(`tensor ${name} declares ${elements} elements but holds ${n} values`, { format: 'onnx' });
  };
  switch (dataType) {
    case ElementType.FLOAT:
      check(t.floatData?.length ?? 0);
      return new Uint8Array(Float32Array.from(t.floatData ?? []).buffer);
    case ElementType.DOUBLE:
      check(t.doubleData?.length ?? 0);
      return new Uint8Array(Float64Array.from(t.doubleData ?? []).buffer);
    case ElementType.INT64:
      check(t.int64Data?.length ?? 0);
      return int64ToBytes(t.int64Data ?? [], elements, false);
    case ElementType.UINT64:
      check(t.uint64Data?.length ?? 0);
      return int64ToBytes(t.uint64Data ?? [], elements, true);
    case ElementType.UINT32:
      check(t.uint64Data?.length ?? 0);
      return new Uint8Array(Uint32Array.from((t.uint64Data ?? []).map(Number)).buffer);
    case ElementType.INT32:
      check(t.int32Data?.length ?? 0);
      return new Uint8Array(Int32Array.from(t.int32Data ?? []).buffer);
    case ElementType.INT16:
    case ElementType.UINT16:
    case ElementType.FLOAT16:
    case ElementType.BFLOAT16:
      check(t.int32Data?.length ?? 0);
      // int32_data holds the 16-bit pattern (or value); truncation keeps exactly those bits.
      return new Uint8Array(Uint16Array.from(t.int32Data ?? [], (v) => v & 0xffff).buffer);
    case ElementType.INT8:
    case ElementType.UINT8:
    case ElementType.BOOL:
    case ElementType.FLOAT8E4M3FN:
    case ElementType.FLOAT8E4M3FNUZ:
    case ElementType.FLOAT8E5M2:
    case ElementType.FLOAT8E5M2FNUZ:
      check(t.int32Data?.length ?? 0);
      return Uint8Array.from(t.int32Data ?? [], (v) => v & 0xff);
    default:
      throw new FormatError(`values of tensor ${name} (type ${onnxTypeName(dataType)}) cannot be read as bytes`, { format: 'onnx' });
  }
}

/** Decodes raw little-endian bytes of `dataType` into floats (f16, bf16, f64, integers and bool widen or narrow to float32). */
export function bytesToFloat32(dataType: number, bytes: Uint8Array, elements: number, name: string, into?: Float32Array): Float32Array {
  const dtype = onnxDataType(dataType)?.dtype;
  if (dtype === undefined || dtype === 'STRING' || dtype === 'C64' || dtype === 'C128') {
    throw new FormatError(`tensor ${name} of type ${onnxTypeName(dataType)} cannot be read as floats`, { format: 'onnx' });
  }
  if (into && into.length !== elements) throw new RangeError(`tensor ${name} has ${elements} values, the array given holds ${into.length}`);
  const out = into ?? new Float32Array(elements);
  decodeElements(dtype, true, bytes, elements, out);
  return out;
}

/** The bytes of a typed array, without copying. */
export function tensorBytesOf(values: TensorValues): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
