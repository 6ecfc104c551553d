import type { MatrixLike } from '../linalg/Matrix';
import { isNotPositiveDefiniteError } from '../linalg/NotPositiveDefiniteError';
import { upperCholeskyOfInverse } from '../linalg/upperCholeskyOfInverse';
import { CancelledError } from '../linalg/CancelledError';
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

const MAX_DAMPING_RETRIES = 6;

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
  if (weight.data.length !== rows * cols) throw new RangeError(`weight has ${weight.data.length} values, expected ${rows}×${cols}`);
  if (hessian.rows !== cols || hessian.cols !== cols || hessian.data.length !== cols * cols) {
    throw new RangeError(`H must be ${cols}×${cols} for a weight with ${cols} inputs, got ${hessian.rows}×${hessian.cols}`);
  }
  const layout = layoutFor(options.scheme, rows, cols);
  const { bits, symmetric, qmin, qmax, granularity, groupSize, groupsPerRow } = layout;
  const percdamp = options.percdamp ?? 0.01;
  const actOrder = options.actOrder ?? false;
  const staticGroups = granularity === 'group' && (actOrder || (options.staticGroups ?? false));
  if (!(percdamp >= 0)) throw new RangeError(`percdamp must be ≥ 0, got ${percdamp}`);

  // W is copied (dead inputs, updates); H is only read, then copied once, permuted.
  const h = hessian.data;
  for (let i = 0; i < h.length; i++) if (!Number.isFinite(h[i])) throw new RangeError(`H has a non-finite value at (${Math.floor(i / cols)}, ${i % cols})`);
  const W0 = Float64Array.from(weight.data);
  for (let i = 0; i < W0.length; i++) if (!Number.isFinite(W0[i])) throw new RangeError(`weight has a non-finite value at ${i}`);

  // Dead inputs never fire on the calibration data: their weights cannot be calibrated, and a zero
  // pivot would break the Cholesky. The reference sets H_ii = 1 and W[:, i] = 0.
  const diag = new Float64Array(cols);
  const deadInputs: number[] = [];
  for (let i = 0; i < cols; i++) {
    diag[i] = h[i * cols + i];
    if (diag[i] === 0) {
      deadInputs.push(i);
      diag[i] = 1;
      for (let r = 0; r < rows; r++) W0[r * cols + i] = 0;
    }
  }

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

  // Act-order: quantize the columns with the largest diag H (most activation energy) first,
  // while the most unquantized columns remain to absorb their error.
  const perm = new Int32Array(cols);
  for (let i = 0; i < cols; i++) perm[i] = i;
  if (actOrder) {
    // Stable: equal diagonals keep their original order, so the result is deterministic.
    perm.sort((a, b) => diag[b] - diag[a] || a - b);
  }
  const W = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) W[r * cols + j] = W0[r * cols + perm[j]];
  const { Hinv, damping } = permutedHinv(h, diag, perm, percdamp, options.isCancelled);

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

  for (let i1 = 0; i1 < cols; i1 += B) {
    if (options.isCancelled?.() === true) throw new CancelledError('GPTQ cancelled');
    const i2 = Math.min(i1 + B, cols);
    const count = i2 - i1;
    for (let j = i1; j < i2; j++) {
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
    }
    // Lazy batch: W:,i2: −= E · Hinv_i1:i2,i2:.
    if (i2 < cols) {
      for (let r = 0; r < rows; r++) {
        const rw = r * cols, re = r * B;
        let t = 0;
        // Four rows of Hinv per pass: W's row is loaded and stored once per four updates.
        for (; t + 3 < count; t += 4) {
          const e0 = E[re + t], e1 = E[re + t + 1], e2 = E[re + t + 2], e3 = E[re + t + 3];
          const h0 = (i1 + t) * cols, h1 = h0 + cols, h2 = h1 + cols, h3 = h2 + cols;
          for (let k = i2; k < cols; k++) W[rw + k] -= e0 * Hinv[h0 + k] + e1 * Hinv[h1 + k] + e2 * Hinv[h2 + k] + e3 * Hinv[h3 + k];
        }
        for (; t < count; t++) {
          const e = E[re + t];
          const ht = (i1 + t) * cols;
          for (let k = i2; k < cols; k++) W[rw + k] -= e * Hinv[ht + k];
        }
      }
    }
    options.onProgress?.(i2, cols);
  }

  return { layout, codes, scales, zeroPoints, loss, damping, deadInputs, order: perm };
}

/**
 * Hinv for the permuted, dead-fixed H: H_p = P·H·Pᵀ with diag replaced by `diag` (dead inputs
 * set to 1), damped by percdamp·mean(diag H_p). A separate function so that the d×d copy of H is
 * garbage once Hinv exists, and the sweep holds only W and Hinv.
 */
function permutedHinv(h: Float32Array | Float64Array, diag: Float64Array, perm: Int32Array, percdamp: number, isCancelled?: () => boolean): { Hinv: Float64Array; damping: number } {
  const n = perm.length;
  const Hp = new Float64Array(n * n);
  let meanDiag = 0;
  for (let i = 0; i < n; i++) {
    const src = perm[i] * n;
    for (let j = 0; j < n; j++) Hp[i * n + j] = h[src + perm[j]];
    Hp[i * n + i] = diag[perm[i]];
    meanDiag += diag[perm[i]];
  }
  meanDiag = n > 0 ? meanDiag / n : 0;
  return dampedHinv(Hp, n, percdamp * meanDiag, meanDiag, isCancelled);
}

/**
 * Hinv = Cholesky((H + λI)⁻¹)ᵀ. λ starts at percdamp·mean(diag H); if the Cholesky fails
 * (H is only semi-definite up to rounding), λ grows tenfold, as the paper's damping is meant to
 * make the inverse well conditioned.
 */
function dampedHinv(H: Float64Array, n: number, lambda0: number, meanDiag: number, isCancelled?: () => boolean): { Hinv: Float64Array; damping: number } {
  const diag = Float64Array.from({ length: n }, (_, i) => H[i * n + i]);
  let lambda = lambda0;
  for (let attempt = 0; ; attempt++) {
    // Damp in place and restore afterwards: the factorization works on its own copy, and a d×d
    // Float64 matrix of a wide layer is too large to copy once more.
    for (let i = 0; i < n; i++) H[i * n + i] = diag[i] + lambda;
    try {
      return { Hinv: upperCholeskyOfInverse({ rows: n, cols: n, data: H }, isCancelled).data, damping: lambda };
    } catch (e) {
      if (!isNotPositiveDefiniteError(e) || attempt >= MAX_DAMPING_RETRIES) throw e;
    } finally {
      for (let i = 0; i < n; i++) H[i * n + i] = diag[i];
    }
    lambda = lambda > 0 ? lambda * 10 : 0.01 * (meanDiag > 0 ? meanDiag : 1);
  }
}
