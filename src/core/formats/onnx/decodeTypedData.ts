import { FormatError } from '../../FormatError';
import type { OnnxDataType } from './onnxDataTypes';
import { WireType } from './WireReader';

/** One occurrence of a typed data field: packed (wire type 2) or a single unpacked value. */
export interface TypedChunk {
  readonly wireType: WireType;
  readonly bytes: Uint8Array;
}

/**
 * Converts the values of a TensorProto's typed field (`float_data`, `int32_data`, `int64_data`,
 * `double_data`, `uint64_data`) into the little-endian bytes of the tensor's dtype, the same layout
 * raw_data would have had. `int32_data` holds the bit pattern for 16-bit floats (FLOAT16, BFLOAT16)
 * and the value for small integers; both come out truncated to the element width.
 */
export function decodeTypedData(type: OnnxDataType, name: string, chunks: readonly TypedChunk[], elements: number): Uint8Array {
  const width = type.bytes;
  const out = new Uint8Array(elements * width);
  const view = new DataView(out.buffer);
  let n = 0;
  const put = (lo: number, hi: number): void => {
    if (n >= elements) throw new FormatError(`tensor ${name} holds more ${type.field ?? ''} values than its ${elements} elements`, { format: 'onnx' });
    const at = n * width;
    if (width === 1) out[at] = lo & 0xff;
    else if (width === 2) view.setUint16(at, lo & 0xffff, true);
    else if (width === 4) view.setUint32(at, lo >>> 0, true);
    else {
      view.setUint32(at, lo >>> 0, true);
      view.setUint32(at + 4, hi >>> 0, true);
    }
    n++;
  };
  const fixed = type.field === 'float_data' || type.field === 'double_data';
  const fixedWidth = type.field === 'float_data' ? 4 : 8;
  for (const chunk of chunks) {
    const b = chunk.bytes;
    if (fixed) {
      const unpacked = type.field === 'float_data' ? WireType.Fixed32 : WireType.Fixed64;
      if (chunk.wireType !== WireType.Bytes && chunk.wireType !== unpacked) {
        throw new FormatError(`tensor ${name} has ${type.field} values with the wrong wire type`, { format: 'onnx' });
      }
      // Complex values are two floats (or doubles) per element: copy the fixed-size words as they are.
      if (b.length % fixedWidth !== 0) throw new FormatError(`tensor ${name} has a truncated ${type.field} value`, { format: 'onnx' });
      const words = b.length / fixedWidth;
      const perElement = width / fixedWidth;
      if (n * perElement + words > elements * perElement) {
        throw new FormatError(`tensor ${name} holds more ${type.field} values than its ${elements} elements`, { format: 'onnx' });
      }
      out.set(b, n * width);
      n += words / perElement;
      continue;
    }
    if (chunk.wireType !== WireType.Bytes && chunk.wireType !== WireType.Varint) {
      throw new FormatError(`tensor ${name} has ${type.field ?? 'typed'} values with the wrong wire type`, { format: 'onnx' });
    }
    let pos = 0;
    while (pos < b.length) {
      let lo = 0;
      let hi = 0;
      let shift = 0;
      for (;;) {
        if (pos >= b.length || shift > 63) throw new FormatError(`tensor ${name} has a corrupt varint in ${type.field ?? 'its data'}`, { format: 'onnx' });
        const byte = b[pos++];
        const bits = byte & 0x7f;
        if (shift < 28) lo |= bits << shift;
        else if (shift === 28) {
          lo |= (bits & 0x0f) << 28;
          hi |= bits >>> 4;
        } else hi |= bits << (shift - 32);
        shift += 7;
        if (byte < 0x80) break;
      }
      put(lo, hi);
    }
  }
  if (Math.round(n) !== elements) {
    throw new FormatError(`tensor ${name} declares ${elements} elements but its ${type.field ?? 'data'} holds ${n}`, { format: 'onnx' });
  }
  return out;
}
