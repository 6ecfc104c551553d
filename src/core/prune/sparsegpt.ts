import type { MatrixLike } from '../linalg/Matrix';
import { assertLayerShapes, lazyBatchSweep, prepareHessian } from '../linalg/prepareHessian';
import { prunedCount } from './magnitudePrune';
import { checkPattern, keptInGroup, type PartialGroupPolicy } from './nmMask';
import type { ColumnQuantizer } from './rtnColumnQuantizer';
import { removeSmallest } from './removeSmallest';

/** Options of {@link sparsegpt}. */
export interface SparseGptOptions {
  /** Unstructured target sparsity p ∈ [0, 1] (fraction pruned); ignored with `pattern`. Default 0.5. */
  readonly sparsity?: number;
  /** N:M semi-structured pattern along the input axis, e.g. { n: 2, m: 4 }. */
  readonly pattern?: { readonly n: number; readonly m: number };
  /** Trailing partial group of an N:M pattern (see nmMask). Default `dense`. */
  readonly partialGroup?: PartialGroupPolicy;
  /** Damping λ = percdamp · mean(diag H). Default 0.01. */
  readonly percdamp?: number;
  /** Lazy-batch block size B. Default 128 (made a multiple of Bs, or of M for N:M). */
  readonly blockSize?: number;
  /** Adaptive mask selection block Bs for unstructured sparsity. Default 128. */
  readonly maskBlockSize?: number;
  /** Joint quantization: the grid each kept weight is rounded to (see rtnColumnQuantizer). */
  readonly quantize?: ColumnQuantizer;
  /** Called after each block with the number of columns done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Polled during the factorization and before each block; true aborts with CancelledError. */
  readonly isCancelled?: () => boolean;
}

/** Result of {@link sparsegpt}. */
export interface SparseGptResult {
  /** The pruned (and, with a quantizer, quantized) weight W [rows, cols], float32. */
  readonly weights: Float32Array;
  /** M: 1 where a weight is kept, 0 where it is pruned. */
  readonly mask: Uint8Array;
  /** Fraction of weights the mask prunes. */
  readonly sparsity: number;
  /** Σ E²: the OBS objective the sweep accumulated, Σ_j ‖W:,j − M:,j·q(W:,j)‖² / [Hinv]²_jj. */
  readonly loss: number;
  /** The absolute damping λ added to diag H. */
  readonly damping: number;
  /** Input channels with diag H = 0, whose weights were set to 0. */
  readonly deadInputs: readonly number[];
}

/**
 * SparseGPT (Frantar & Alistarh 2023, Algorithm 1): one-shot pruning of W [rows = out,
 * cols = in] given H = XᵀX [in, in], with the same Hinv = Cholesky(H⁻¹)ᵀ and lazy batch updates
 * as GPTQ. Columns are processed left to right; the error E of pruning (and quantizing) column
 * j is spread onto the later columns through row j of Hinv, so the kept weights compensate.
 *
 * The mask M is chosen adaptively as the sweep reaches it, from the saliency w²/[Hinv]²_cc of
 * the already updated weights: for unstructured sparsity p, exactly round(p·rows·Bs) weights of
 * each block of Bs columns (ties pruned in row-major order); for N:M, the N most salient of every
 * M consecutive columns in each row (ties keep the lower column).
 *
 * @throws {RangeError} for mismatched shapes, non-finite input or invalid options.
 * @throws {CancelledError} when `isCancelled` returns true.
 * @throws {NotPositiveDefiniteError} when H stays indefinite after repeated extra damping.
 */
export function sparsegpt(weight: MatrixLike, hessian: MatrixLike, options: SparseGptOptions): SparseGptResult {
  const rows = weight.rows, cols = weight.cols;
  assertLayerShapes(weight, hessian);
  const pattern = options.pattern;
  if (pattern !== undefined) checkPattern(pattern.n, pattern.m);
  const p = options.sparsity ?? 0.5;
  if (pattern === undefined && !(p >= 0 && p <= 1)) throw new RangeError(`sparsity must be in [0, 1], got ${p}`);
  const policy = options.partialGroup ?? 'dense';
  const Bs = Math.max(1, Math.floor(options.maskBlockSize ?? 128));
  // A mask block (or an N:M group) must lie inside one lazy block, so that its saliencies are
  // taken from fully updated weights.
  const unit = pattern !== undefined ? pattern.m : Bs;
  const B = Math.max(unit, Math.floor(Math.max(1, options.blockSize ?? 128) / unit) * unit);

  // Dead inputs get H_ii = 1 and zero weights, as in GPTQ, so the Cholesky has a pivot and the
  // zero weights are pruned first.
  const { weights: W, deadInputs, hinv: Hinv, damping } = prepareHessian(weight, hessian, {
    percdamp: options.percdamp,
    isCancelled: options.isCancelled,
  });

  const M = new Uint8Array(rows * cols).fill(1);
  const E = new Float64Array(rows * B);
  const column = new Float64Array(rows);
  const quantized = new Float64Array(rows);
  const scores = new Float64Array(rows * Bs);
  const keep = new Uint8Array(rows * Bs);
  const order = new Int32Array(pattern?.m ?? 1);
  let loss = 0;

  lazyBatchSweep(W, Hinv, E, rows, cols, B, { cancelMessage: 'SparseGPT cancelled', isCancelled: options.isCancelled, onProgress: options.onProgress }, (j, i1, i2) => {
    if (pattern !== undefined) {
      if (j % pattern.m === 0) selectNM(W, Hinv, M, rows, cols, j, pattern.n, pattern.m, policy, order);
    } else if ((j - i1) % Bs === 0) {
      selectUnstructured(W, Hinv, M, rows, cols, j, Math.min(j + Bs, i2), p, scores, keep);
    }
    const hj = j * cols;
    const d = Hinv[hj + j];
    for (let r = 0; r < rows; r++) column[r] = W[r * cols + j];
    if (options.quantize) options.quantize(column, j, quantized);
    else quantized.set(column);
    for (let r = 0; r < rows; r++) {
      const rw = r * cols;
      const w = column[r];
      const q = M[rw + j] === 1 ? quantized[r] : 0;
      // E:,j−i = (W:,j − M:,j·quant(W:,j)) / [Hinv]_jj; frozen weights (kept, not quantized)
      // contribute no error.
      const err = (w - q) / d;
      loss += err * err;
      E[r * B + (j - i1)] = err;
      W[rw + j] = q;
      // W:,j+1..i2 −= E:,j−i · Hinv_j,j+1..i2: the OBS update within the block.
      if (err !== 0) for (let k = j + 1; k < i2; k++) W[rw + k] -= err * Hinv[hj + k];
    }
  });

  let pruned = 0;
  for (let i = 0; i < M.length; i++) if (M[i] === 0) pruned++;
  return {
    weights: Float32Array.from(W),
    mask: M,
    sparsity: M.length === 0 ? 0 : pruned / M.length,
    loss,
    damping,
    deadInputs,
  };
}

/**
 * Adaptive mask selection for columns [c0, c1): prunes the round(p·rows·(c1−c0)) weights of
 * smallest saliency w²/[Hinv]²_cc in the block.
 */
function selectUnstructured(W: Float64Array, Hinv: Float64Array, M: Uint8Array, rows: number, cols: number, c0: number, c1: number, p: number, scores: Float64Array, keep: Uint8Array): void {
  const len = c1 - c0;
  const n = rows * len;
  for (let r = 0; r < rows; r++) {
    for (let c = c0; c < c1; c++) {
      const d = Hinv[c * cols + c];
      const w = W[r * cols + c];
      scores[r * len + (c - c0)] = (w * w) / (d * d);
    }
  }
  const k = keep.subarray(0, n).fill(1);
  removeSmallest(scores.subarray(0, n), prunedCount(n, p), k);
  for (let r = 0; r < rows; r++) for (let c = c0; c < c1; c++) M[r * cols + c] = k[r * len + (c - c0)];
}

/** N:M mask selection for the group of columns starting at c0: the N most salient per row. */
function selectNM(W: Float64Array, Hinv: Float64Array, M: Uint8Array, rows: number, cols: number, c0: number, n: number, m: number, policy: PartialGroupPolicy, order: Int32Array): void {
  const len = Math.min(m, cols - c0);
  const keepCount = keptInGroup(n, m, len, policy);
  const saliency = (r: number, c: number): number => {
    const w = W[r * cols + c], d = Hinv[c * cols + c];
    return (w * w) / (d * d);
  };
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < len; t++) {
      order[t] = c0 + t;
      M[r * cols + c0 + t] = 0;
    }
    for (let t = 0; t < keepCount; t++) {
      let best = t;
      for (let u = t + 1; u < len; u++) {
        const a = saliency(r, order[u]), b = saliency(r, order[best]);
        if (a > b || (a === b && order[u] < order[best])) best = u;
      }
      const tmp = order[t];
      order[t] = order[best];
      order[best] = tmp;
      M[r * cols + order[t]] = 1;
    }
  }
}
