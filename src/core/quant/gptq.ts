import type { MatrixLike } from '../linalg/Matrix';
import { assertLayerShapes, lazyBatchSweep, prepareHessian } from '../linalg/prepareHessian';
import { dequantizeValue, quantizeValue, quantParams, runParams } from './quantParams';
import { layoutFor, scaleCount, type QuantizedWeight, type QuantScheme } from './QuantScheme';

/** Options of {@link gptq}. */
export interface GptqOptions {
  /** Bits, symmetry and granularity, as for RTN. */
  readonly scheme: QuantScheme;
  /** Damping λ = percdamp · mean(diag H) added to the diagonal of H. Default 0.01. */
  readonly percdamp?: number;
  /** Lazy-batch block size B. Default 128. */
  readonly blockSize?: number;
  /** Quantize columns in order of decreasing diag H (the reference's `act_order`). Default false. */
  readonly actOrder?: boolean;
  /**
   * Compute group scales from the un-permuted W before the loop. Always on with `actOrder`,
   * because groups must stay contiguous runs of the original input axis to be writable as
   * blocked ONNX scales. Default false (scales are taken from the updated W as each group starts).
   */
  readonly staticGroups?: boolean;
  /** Called after each block with the number of columns done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Polled during the factorization and before each block; returning true aborts with {@link CancelledError}. */
  readonly isCancelled?: () => boolean;
}

/** Result of {@link gptq}: the quantized weight (same form as RTN) plus diagnostics. */
export interface GptqResult extends QuantizedWeight {
  /** Σ_j ‖W:,j − Q:,j‖² / d_j²: the objective tr(ΔW·H_damped·ΔWᵀ) the sweep accumulated. */
  readonly loss: number;
  /** The absolute damping λ added to diag H (more than percdamp·mean(diag H) if a retry was needed). */
  readonly damping: number;
  /** Input channels with diag H = 0, whose weights were set to 0. */
  readonly deadInputs: readonly number[];
  /** The column order used (perm[k] = original column quantized k-th); identity without act-order. */
  readonly order: Int32Array;
}

/**
 * GPTQ (Frantar et al. 2022, Algorithm 1) for W [rows = out, cols = in] and H = XᵀX [in, in].
 *
 * Columns are quantized one at a time; the error of column j, scaled by the Hinv diagonal d, is
 * spread onto the not yet quantized columns through row j of Hinv = Cholesky(H⁻¹)ᵀ (upper). The
 * updates to columns past the current block of B columns are deferred and applied as one
 * (rows × B)·(B × rest) product per block ("lazy batch"). Codes, float32 scales and zero points
 * follow the same ONNX rounding as RTN, and every Q value is exactly the float32 that
 * `DequantizeLinear` reconstructs, so the propagated error is the one the model will see.
 *
 * @throws {RangeError} for mismatched shapes, invalid schemes or non-finite input.
 * @throws {CancelledError} when `isCancelled` returns true.
 * @throws {NotPositiveDefiniteError} when H stays indefinite after repeated extra damping.
 *
 * Memory: two Float64 copies of W (rows × cols) and Hinv (cols² Float64), plus one transient
 * cols² copy of H while Hinv is computed: 2 × 8·cols² bytes for the d×d part at the peak
 * (256 MiB for cols = 4096).
 */
export function gptq(weight: MatrixLike, hessian: MatrixLike, options: GptqOptions): GptqResult {
  const rows = weight.rows, cols = weight.cols;
  assertLayerShapes(weight, hessian);
  const layout = layoutFor(options.scheme, rows, cols);
  const { bits, symmetric, qmin, qmax, granularity, groupSize, groupsPerRow } = layout;
  const actOrder = options.actOrder ?? false;
  const staticGroups = granularity === 'group' && (actOrder || (options.staticGroups ?? false));
  // W is copied (dead inputs, updates); H is only read, then copied once, permuted.
  const { weights: W0, deadInputs, order: perm, hinv: Hinv, damping } = prepareHessian(weight, hessian, {
    percdamp: options.percdamp,
    actOrder,
    isCancelled: options.isCancelled,
  });

  // Scales fixed before the sweep: per tensor, per output channel, or static groups of the
  // un-permuted W.
  const nScales = scaleCount(layout);
  const scales = new Float32Array(nScales);
  const zeroPoints = symmetric ? new Int8Array(nScales) : new Uint8Array(nScales);
  const setParams = (s: number, p: { scale: number; zeroPoint: number }): void => {
    scales[s] = p.scale;
    zeroPoints[s] = p.zeroPoint;
  };
  if (granularity === 'tensor') {
    let lo = Infinity, hi = -Infinity;
    for (const v of W0) { if (v < lo) lo = v; if (v > hi) hi = v; }
    setParams(0, W0.length === 0 ? { scale: 0, zeroPoint: 0 } : quantParams(lo, hi, bits, symmetric));
  } else if (granularity === 'channel') {
    for (let r = 0; r < rows; r++) setParams(r, runParams(W0, cols, r, 0, cols, bits, symmetric));
  } else if (staticGroups) {
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < groupsPerRow; g++) setParams(r * groupsPerRow + g, runParams(W0, cols, r, g * groupSize, Math.min((g + 1) * groupSize, cols), bits, symmetric));
    }
  }

  const W = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) W[r * cols + j] = W0[r * cols + perm[j]];

  // With dynamic groups, a group's scales must be taken from fully updated weights: make every
  // group start either inside a block (and end within it) or at a block start.
  let B = Math.max(1, Math.floor(options.blockSize ?? 128));
  if (granularity === 'group' && !staticGroups) {
    if (groupSize <= B) B -= B % groupSize;
    else if (groupSize % B !== 0) B = groupSize;
  }

  const codes = symmetric ? new Int8Array(rows * cols) : new Uint8Array(rows * cols);
  const E = new Float64Array(rows * B);
  let loss = 0;

  lazyBatchSweep(W, Hinv, E, rows, cols, B, { cancelMessage: 'GPTQ cancelled', isCancelled: options.isCancelled, onProgress: options.onProgress }, (j, i1, i2) => {
    const col = perm[j];
    if (granularity === 'group' && !staticGroups && j % groupSize === 0) {
      const g = j / groupSize;
      for (let r = 0; r < rows; r++) setParams(r * groupsPerRow + g, runParams(W, cols, r, j, Math.min(j + groupSize, cols), bits, symmetric));
    }
    const gcol = granularity === 'group' ? Math.floor(col / groupSize) : 0;
    const hj = j * cols;
    const d = Hinv[hj + j];
    for (let r = 0; r < rows; r++) {
      const s = granularity === 'tensor' ? 0 : r * groupsPerRow + gcol;
      const scale = scales[s], zp = zeroPoints[s];
      const rw = r * cols;
      const w = W[rw + j];
      const code = quantizeValue(w, scale, zp, qmin, qmax);
      codes[r * cols + col] = code;
      const q = dequantizeValue(code, scale, zp);
      const err = (w - q) / d;
      loss += err * err;
      E[r * B + (j - i1)] = err;
      // W:,j+1..i2 −= err · Hinv_j,j+1..i2 : the OBS update restricted to the current block.
      for (let k = j + 1; k < i2; k++) W[rw + k] -= err * Hinv[hj + k];
    }
  });

  return { layout, codes, scales, zeroPoints, loss, damping, deadInputs, order: perm };
}
