import type { QuantizedWeight } from './QuantScheme';

/**
 * The float32 weight [rows, cols] that ONNX `DequantizeLinear` (or `MatMulNBits`) reconstructs
 * from the codes: (q − zp)·scale per element, rounded to float32; written into `into` when given.
 */
export function dequantize(q: QuantizedWeight, into?: Float32Array): Float32Array {
  const { rows, cols, granularity, groupSize, groupsPerRow } = q.layout;
  const { codes, scales, zeroPoints } = q;
  if (into && into.length !== rows * cols) throw new RangeError(`dequantize into ${into.length} values, the weight has ${rows}×${cols}`);
  // Writing into a Float32Array rounds once to float32, as dequantizeValue's Math.fround does.
  const out = into ?? new Float32Array(rows * cols);
  if (granularity === 'tensor') {
    const scale = scales[0], zp = zeroPoints[0];
    for (let i = 0; i < out.length; i++) out[i] = (codes[i] - zp) * scale;
    return out;
  }
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let g = 0; g < groupsPerRow; g++) {
      const scale = scales[r * groupsPerRow + g], zp = zeroPoints[r * groupsPerRow + g];
      const c1 = base + Math.min((g + 1) * groupSize, cols);
      for (let i = base + g * groupSize; i < c1; i++) out[i] = (codes[i] - zp) * scale;
    }
  }
  return out;
}
