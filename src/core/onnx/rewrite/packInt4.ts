/**
 * Packs 4-bit values two per byte, element 2i in the low nibble and 2i + 1 in the high nibble, as
 * ONNX stores INT4/UINT4 tensors; signed values keep their two's complement nibble.
 */
export function packInt4(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) {
    const nibble = values[i] & 0x0f;
    out[i >> 1] |= (i & 1) === 0 ? nibble : nibble << 4;
  }
  return out;
}
