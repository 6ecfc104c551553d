import { dequantizeValue } from './quantParams';
import type { QuantizedWeight } from './QuantScheme';

/**
 * The float32 weight [rows, cols] that ONNX `DequantizeLinear` (or `MatMulNBits`) reconstructs
 * from the codes: (q − zp)·scale per element, rounded to float32.
 */
export function dequantize(q: QuantizedWeight): Float32Array {
  const { rows, cols, granularity, groupSize, groupsPerRow } = q.layout;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = granularity === 'tensor' ? 0 : r * groupsPerRow + Math.floor(c / groupSize);
      out[r * cols + c] = dequantizeValue(q.codes[r * cols + c], q.scales[s], q.zeroPoints[s]);
    }
  }
  return out;
}
