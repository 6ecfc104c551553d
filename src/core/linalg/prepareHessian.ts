import { CancelledError } from './CancelledError';
import type { MatrixLike } from './Matrix';
import { isNotPositiveDefiniteError } from './NotPositiveDefiniteError';
import { upperCholeskyOfInverse } from './upperCholeskyOfInverse';

/** Options of {@link prepareHessian}. */
export interface PrepareHessianOptions {
  /** Damping λ = percdamp · mean(diag H) added to the diagonal of H. Default 0.01. */
  readonly percdamp?: number;
  /** Order the columns by decreasing diag H (GPTQ's `act_order`); identity otherwise. Default false. */
  readonly actOrder?: boolean;
  /** Polled during the factorization; true aborts with {@link CancelledError}. */
  readonly isCancelled?: () => boolean;
}

/** Result of {@link prepareHessian}: what an OBS column sweep (GPTQ, SparseGPT) starts from. */
export interface PreparedHessian {
  /** A Float64 copy of W [rows, cols] in the original column order, dead input columns set to 0. */
  readonly weights: Float64Array;
  /** Input channels with diag H = 0, in increasing order. */
  readonly deadInputs: number[];
  /** The column order (order[k] = original column swept k-th); identity without act-order. */
  readonly order: Int32Array;
  /** Hinv = Cholesky((P·H·Pᵀ + λI)⁻¹)ᵀ (upper, row-major cols × cols), P the column order. */
  readonly hinv: Float64Array;
  /** The absolute damping λ added to diag H (more than percdamp·mean(diag H) if a retry was needed). */
  readonly damping: number;
}

const MAX_DAMPING_RETRIES = 6;

/**
 * Checks that H = XᵀX is cols × cols for a weight W [rows = out, cols = in].
 *
 * @throws {RangeError} for mismatched shapes.
 */
export function assertLayerShapes(weight: MatrixLike, hessian: MatrixLike): void {
  const rows = weight.rows, cols = weight.cols;
  if (weight.data.length !== rows * cols) throw new RangeError(`weight has ${weight.data.length} values, expected ${rows}×${cols}`);
  if (hessian.rows !== cols || hessian.cols !== cols || hessian.data.length !== cols * cols) {
    throw new RangeError(`H must be ${cols}×${cols} for a weight with ${cols} inputs, got ${hessian.rows}×${hessian.cols}`);
  }
}

/**
 * The set-up GPTQ (Frantar et al. 2022) and SparseGPT (Frantar & Alistarh 2023) share before their
 * column sweep: a Float64 copy of W, dead inputs (diag H = 0) fixed as the reference does
 * (H_ii = 1, W[:, i] = 0), the column order, and the upper Cholesky factor of the damped inverse
 * Hessian, with λ = percdamp · mean(diag H) grown tenfold while the factorization fails.
 * Shapes must have been checked with {@link assertLayerShapes}; H is only read.
 *
 * @throws {RangeError} for a negative percdamp or non-finite input.
 * @throws {CancelledError} when `isCancelled` returns true.
 * @throws {NotPositiveDefiniteError} when H stays indefinite after repeated extra damping.
 */
export function prepareHessian(weight: MatrixLike, hessian: MatrixLike, options: PrepareHessianOptions = {}): PreparedHessian {
  const rows = weight.rows, cols = weight.cols;
  const percdamp = options.percdamp ?? 0.01;
  if (!(percdamp >= 0)) throw new RangeError(`percdamp must be ≥ 0, got ${percdamp}`);
  const h = hessian.data;
  for (let i = 0; i < h.length; i++) if (!Number.isFinite(h[i])) throw new RangeError(`H has a non-finite value at (${Math.floor(i / cols)}, ${i % cols})`);
  const W = Float64Array.from(weight.data);
  for (let i = 0; i < W.length; i++) if (!Number.isFinite(W[i])) throw new RangeError(`weight has a non-finite value at ${i}`);

  // Dead inputs never fire on the calibration data: their weights cannot be calibrated, and a zero
  // pivot would break the Cholesky.
  const diag = new Float64Array(cols);
  const deadInputs: number[] = [];
  for (let i = 0; i < cols; i++) {
    diag[i] = h[i * cols + i];
    if (diag[i] === 0) {
      deadInputs.push(i);
      diag[i] = 1;
      for (let r = 0; r < rows; r++) W[r * cols + i] = 0;
    }
  }

  const order = new Int32Array(cols);
  for (let i = 0; i < cols; i++) order[i] = i;
  // Columns with the most activation energy first, while the most unswept columns remain to absorb
  // their error; stable, so equal diagonals keep their original order and the result is deterministic.
  if (options.actOrder === true) order.sort((a, b) => diag[b] - diag[a] || a - b);
  const { hinv, damping } = permutedHinv(h, diag, order, percdamp, options.isCancelled);
  return { weights: W, deadInputs, order, hinv, damping };
}

/**
 * Hinv for the permuted, dead-fixed H: H_p = P·H·Pᵀ with diag replaced by `diag`, damped by
 * percdamp·mean(diag H_p). A separate function so that the d×d copy of H is garbage once Hinv
 * exists, and the sweep holds only W and Hinv.
 */
function permutedHinv(h: Float32Array | Float64Array, diag: Float64Array, perm: Int32Array, percdamp: number, isCancelled?: () => boolean): { hinv: Float64Array; damping: number } {
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
function dampedHinv(H: Float64Array, n: number, lambda0: number, meanDiag: number, isCancelled?: () => boolean): { hinv: Float64Array; damping: number } {
  const diag = Float64Array.from({ length: n }, (_, i) => H[i * n + i]);
  let lambda = lambda0;
  for (let attempt = 0; ; attempt++) {
    // Damp in place and restore afterwards: the factorization works on its own copy, and a d×d
    // Float64 matrix of a wide layer is too large to copy once more.
    for (let i = 0; i < n; i++) H[i * n + i] = diag[i] + lambda;
    try {
      return { hinv: upperCholeskyOfInverse({ rows: n, cols: n, data: H }, isCancelled).data, damping: lambda };
    } catch (e) {
      if (!isNotPositiveDefiniteError(e) || attempt >= MAX_DAMPING_RETRIES) throw e;
    } finally {
      for (let i = 0; i < n; i++) H[i * n + i] = diag[i];
    }
    lambda = lambda > 0 ? lambda * 10 : 0.01 * (meanDiag > 0 ? meanDiag : 1);
  }
}

/** Options of {@link lazyBatchSweep}. */
export interface LazyBatchSweepOptions {
  /** Message of the {@link CancelledError} thrown when `isCancelled` returns true. */
  readonly cancelMessage: string;
  /** Polled before each block; true aborts with {@link CancelledError}. */
  readonly isCancelled?: () => boolean;
  /** Called after each block with the number of columns done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * The lazy-batch block loop of GPTQ and SparseGPT: for each block [i1, i2) of B columns,
 * `sweepColumn(j, i1, i2)` handles column j (writing its scaled error E[r·B + j − i1] and
 * updating W[:, j+1..i2) itself), then the deferred update W:,i2: −= E · Hinv_i1:i2,i2: is
 * applied as one (rows × B)·(B × rest) product.
 *
 * @throws {CancelledError} when `isCancelled` returns true.
 */
export function lazyBatchSweep(
  W: Float64Array, hinv: Float64Array, E: Float64Array, rows: number, cols: number, B: number,
  options: LazyBatchSweepOptions, sweepColumn: (j: number, i1: number, i2: number) => void,
): void {
  for (let i1 = 0; i1 < cols; i1 += B) {
    if (options.isCancelled?.() === true) throw new CancelledError(options.cancelMessage);
    const i2 = Math.min(i1 + B, cols);
    for (let j = i1; j < i2; j++) sweepColumn(j, i1, i2);
    if (i2 < cols) lazyBatchUpdate(W, hinv, E, rows, cols, B, i1, i2);
    options.onProgress?.(i2, cols);
  }
}

/** W:,i2: −= E · Hinv_i1:i2,i2:, skipping runs of zero errors (pruned-and-zero or dead weights). */
function lazyBatchUpdate(W: Float64Array, hinv: Float64Array, E: Float64Array, rows: number, cols: number, B: number, i1: number, i2: number): void {
  const count = i2 - i1;
  for (let r = 0; r < rows; r++) {
    const rw = r * cols, re = r * B;
    let t = 0;
    // Four rows of Hinv per pass: W's row is loaded and stored once per four updates.
    for (; t + 3 < count; t += 4) {
      const e0 = E[re + t], e1 = E[re + t + 1], e2 = E[re + t + 2], e3 = E[re + t + 3];
      if (e0 === 0 && e1 === 0 && e2 === 0 && e3 === 0) continue;
      const h0 = (i1 + t) * cols, h1 = h0 + cols, h2 = h1 + cols, h3 = h2 + cols;
      for (let k = i2; k < cols; k++) W[rw + k] -= e0 * hinv[h0 + k] + e1 * hinv[h1 + k] + e2 * hinv[h2 + k] + e3 * hinv[h3 + k];
    }
    for (; t < count; t++) {
      const e = E[re + t];
      if (e === 0) continue;
      const ht = (i1 + t) * cols;
      for (let k = i2; k < cols; k++) W[rw + k] -= e * hinv[ht + k];
    }
  }
}
