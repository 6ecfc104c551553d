import type { MatrixLike } from '../linalg/Matrix';
import { quantizeValue, quantParams, runParams } from './quantParams';
import { layoutFor, scaleCount, type QuantizedWeight, type QuantScheme } from './QuantScheme';

/**
 * Round-to-nearest quantization of W [rows = out, cols = in] (row-major) under `scheme`, with
 * ties and clamping exactly as ONNX `QuantizeLinear` (round half to even, saturate) and float32
 * scales, so that our dequantized weights equal what ONNX Runtime computes from the written
 * codes. Groups run along the input axis (see {@link QuantScheme}).
 *
 * @throws {RangeError} for an invalid scheme, a data length that does not match the shape, or
 *   non-finite weights.
 */
export function quantizeRtn(W: MatrixLike, scheme: QuantScheme): QuantizedWeight {
  const { rows, cols, data } = W;
  if (data.length !== rows * cols) throw new RangeError(`weight has ${data.length} values, expected ${rows}×${cols}`);
  const layout = layoutFor(scheme, rows, cols);
  const { bits, symmetric, qmin, qmax, groupSize, groupsPerRow } = layout;
  const n = scaleCount(layout);
  const codes = symmetric ? new Int8Array(rows * cols) : new Uint8Array(rows * cols);
  const scales = new Float32Array(n);
  const zeroPoints = symmetric ? new Int8Array(n) : new Uint8Array(n);

  if (layout.granularity === 'tensor') {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (data.length === 0) lo = hi = 0;
    const { scale, zeroPoint } = quantParams(lo, hi, bits, symmetric);
    scales[0] = scale;
    zeroPoints[0] = zeroPoint;
    for (let i = 0; i < data.length; i++) codes[i] = quantizeValue(data[i], scale, zeroPoint, qmin, qmax);
    return { layout, codes, scales, zeroPoints };
  }

  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groupsPerRow; g++) {
      const c0 = g * groupSize;
      const c1 = Math.min(c0 + groupSize, cols);
      const { scale, zeroPoint } = runParams(data, cols, r, c0, c1, bits, symmetric);
      const s = r * groupsPerRow + g;
      scales[s] = scale;
      zeroPoints[s] = zeroPoint;
      for (let c = c0; c < c1; c++) codes[r * cols + c] = quantizeValue(data[r * cols + c], scale, zeroPoint, qmin, qmax);
    }
  }
  return { layout, codes, scales, zeroPoints };
}
