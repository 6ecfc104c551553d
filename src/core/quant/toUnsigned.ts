import type { QuantizedWeight } from './QuantScheme';

/**
 * The same quantized weight with unsigned codes: a symmetric (signed, zero point 0) weight becomes
 * codes q + 2^(b−1) with zero point 2^(b−1), which dequantizes to exactly the same values. Formats
 * that only take unsigned codes need this, such as `com.microsoft::MatMulNBits` (uint4, default
 * zero point 8). An asymmetric weight is returned as is.
 */
export function toUnsigned(q: QuantizedWeight): QuantizedWeight {
  if (!q.layout.symmetric) return q;
  const offset = 2 ** (q.layout.bits - 1);
  return {
    layout: { ...q.layout, symmetric: false, qmin: q.layout.qmin + offset, qmax: q.layout.qmax + offset },
    codes: offsetCodes(q.codes, offset),
    scales: q.scales,
    zeroPoints: new Uint8Array(q.zeroPoints.length).fill(offset),
  };
}

/** The bytes codes[i] + offset mod 256 (every result lies in [0, 2^b), so mod 256 changes nothing). */
function offsetCodes(codes: Int8Array | Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(codes.length);
  // Four bytes per 32-bit add, without carries between bytes: the low seven bits of each byte are
  // added with room for their carry, and the top bit is the XOR of the two top bits and that carry.
  const words = codes.byteOffset % 4 === 0 ? codes.length >> 2 : 0;
  if (words) {
    const src = new Uint32Array(codes.buffer, codes.byteOffset, words);
    const dst = new Uint32Array(out.buffer, 0, words);
    const add = offset * 0x01010101;
    const low = add & 0x7f7f7f7f, high = add & 0x80808080;
    for (let i = 0; i < words; i++) {
      const x = src[i];
      dst[i] = ((x & 0x7f7f7f7f) + low) ^ ((x & 0x80808080) ^ high);
    }
  }
  for (let i = words * 4; i < codes.length; i++) out[i] = codes[i] + offset;
  return out;
}
