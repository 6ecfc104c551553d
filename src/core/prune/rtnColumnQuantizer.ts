import type { MatrixLike } from '../linalg/Matrix';
import { dequantizeValue, quantizeValue, runParams } from '../quant/quantParams';
import { layoutFor, scaleIndex, type QuantScheme } from '../quant/QuantScheme';

/**
 * Quantizes column j of the weight as SparseGPT's joint quantization sees it (the column after
 * the error feedback of the earlier columns): writes the grid value of each `column[r]` into
 * `out[r]`. Pruned entries are zeroed by the caller, whatever the quantizer returns.
 */
export type ColumnQuantizer = (column: Float64Array, j: number, out: Float64Array) => void;

/**
 * A {@link ColumnQuantizer} on the RTN grid of `scheme` (per channel, or per group with the
 * scales of each group taken from the original W, as GPTQ's static groups): the same ONNX
 * rounding and float32 scales as `quantizeRtn`, so every value is one `DequantizeLinear` gives.
 *
 * @throws {RangeError} for a per-tensor scheme (use per channel) or an invalid one.
 */
export function rtnColumnQuantizer(W: MatrixLike, scheme: QuantScheme): ColumnQuantizer {
  const layout = layoutFor(scheme, W.rows, W.cols);
  if (layout.granularity === 'tensor') throw new RangeError('joint pruning and quantization needs per-channel or per-group scales');
  const { rows, cols, bits, symmetric, qmin, qmax, groupSize, groupsPerRow } = layout;
  const scales = new Float64Array(rows * groupsPerRow);
  const zeroPoints = new Float64Array(rows * groupsPerRow);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groupsPerRow; g++) {
      const p = runParams(W.data, cols, r, g * groupSize, Math.min((g + 1) * groupSize, cols), bits, symmetric);
      scales[r * groupsPerRow + g] = p.scale;
      zeroPoints[r * groupsPerRow + g] = p.zeroPoint;
    }
  }
  return (column, j, out) => {
    for (let r = 0; r < rows; r++) {
      const s = scaleIndex(layout, r, j);
      out[r] = dequantizeValue(quantizeValue(column[r], scales[s], zeroPoints[s], qmin, qmax), scales[s], zeroPoints[s]);
    }
  };
}
