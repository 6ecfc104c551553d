import type { MatrixLayout } from '../../protocol/statsTypes';

/**
 * How a weight tensor maps onto a matrix of output and input channels.
 *
 * The values are read row-major as a `rows × cols` matrix. `outAxis` says which of the two axes
 * holds the output channels:
 * - `0`: rows are outputs, columns are inputs — PyTorch `nn.Linear.weight` `[out, in]`, and conv
 *   weights `[out, in, kh, kw]` flattened to `[out, in·kh·kw]`;
 * - `1`: rows are inputs, columns are outputs — ONNX `MatMul` initializers `[in, out]`
 *   (and `Gemm` with `transB = 0`).
 *
 * Per-channel quantization uses one scale per output channel; groups run along the input axis.
 */
export type { MatrixLayout };

/**
 * The layout to use for a tensor of `shape`: `given` when the caller knows it (it must cover
 * every element), otherwise `[shape[0], product of the rest]` with outputs on axis 0 for tensors
 * of rank ≥ 2, and none (no channel statistics) for scalars and vectors.
 */
export function resolveLayout(shape: readonly number[], given?: MatrixLayout | null): MatrixLayout | null {
  let total = 1;
  for (const d of shape) total *= d;
  if (given) {
    if (!Number.isSafeInteger(given.rows) || !Number.isSafeInteger(given.cols) || given.rows < 0 || given.cols < 0 || given.rows * given.cols !== total) {
      throw new RangeError(`matrix layout ${given.rows}×${given.cols} does not cover the ${total} elements of shape [${shape.join(', ')}]`);
    }
    if (given.outAxis !== 0 && given.outAxis !== 1) throw new RangeError(`outAxis must be 0 or 1, got ${String(given.outAxis)}`);
    return total === 0 ? null : { rows: given.rows, cols: given.cols, outAxis: given.outAxis };
  }
  if (given === null || shape.length < 2 || total === 0) return null;
  return { rows: shape[0], cols: total / shape[0], outAxis: 0 };
}
