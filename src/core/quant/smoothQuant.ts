/**
 * SmoothQuant (Xiao et al. 2022): migrate quantization difficulty from activations to weights
 * with a per-input-channel scale s, so that Y = X·W = (X·diag(s)⁻¹)·(diag(s)·W) in the paper's
 * [in, out] notation. In our canonical W [out, in] the weight's input columns are multiplied by s.
 * These are the pure numbers; the graph rewrite lives in onnx/rewrite/smoothQuant.ts.
 */
import type { MatrixLike } from '../linalg/Matrix';

/** Smallest and largest smoothing factor: beyond these the float32 weights or activations would lose their range. */
export const SMOOTH_SCALE_MIN = 1e-5;
export const SMOOTH_SCALE_MAX = 1e5;

/**
 * The paper's migration strength α default: it balances max|X_j| and max|W_j| (both become
 * √(max|X_j|·max|W_j|)), which the paper found right for most models.
 */
export const DEFAULT_SMOOTH_ALPHA = 0.5;

/** Throws a RangeError unless α ∈ [0, 1]. */
export function checkSmoothAlpha(alpha: number): void {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`SmoothQuant migration strength alpha must be in [0, 1], got ${alpha}`);
}

/**
 * The smoothing factors s_j = max|X_j|^α / max|W_j|^(1−α) (paper, eq. 4), one per input channel j.
 * A channel whose activation or weight absmax is 0 or not finite keeps s_j = 1: the formula would
 * give 0 or ∞ there and the channel carries no information to balance. s is clamped to
 * [1e-5, 1e5] and rounded to float32, the precision the graph will hold it in.
 */
export function smoothingScales(activationAbsmax: ArrayLike<number>, weightAbsmax: ArrayLike<number>, alpha = DEFAULT_SMOOTH_ALPHA): Float32Array {
  checkSmoothAlpha(alpha);
  const K = activationAbsmax.length;
  if (weightAbsmax.length !== K) throw new RangeError(`activation absmax has ${K} channels but weight absmax has ${weightAbsmax.length}`);
  const s = new Float32Array(K);
  for (let j = 0; j < K; j++) {
    const x = Math.abs(activationAbsmax[j]);
    const w = Math.abs(weightAbsmax[j]);
    if (!(x > 0 && w > 0 && Number.isFinite(x) && Number.isFinite(w))) {
      s[j] = 1;
      continue;
    }
    const v = Math.pow(x, alpha) / Math.pow(w, 1 - alpha);
    s[j] = Number.isFinite(v) ? Math.min(SMOOTH_SCALE_MAX, Math.max(SMOOTH_SCALE_MIN, v)) : 1;
  }
  return s;
}

/** max|W_j| over the output rows of W [out, in], for each input column j (the paper's weight statistic). */
export function weightInputAbsmax(W: MatrixLike): Float64Array {
  const { rows, cols, data } = W;
  if (data.length !== rows * cols) throw new RangeError(`weight has ${data.length} values, expected ${rows}×${cols}`);
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let j = 0; j < cols; j++) {
      const a = Math.abs(data[row + j]);
      // NaN wins so that smoothingScales sees a non-finite channel and leaves it alone.
      if (a > out[j] || Number.isNaN(a)) out[j] = a;
    }
  }
  return out;
}

/**
 * Elementwise max of several per-channel vectors of the same length. One X feeds several layers
 * (q, k, v projections) and the paper uses one s per activation, so the weight statistic is the
 * max over all of them, and likewise the activation statistic when calibration reports it per layer.
 */
export function combinedAbsmax(vectors: readonly ArrayLike<number>[]): Float64Array {
  if (!vectors.length) throw new RangeError('combinedAbsmax needs at least one vector');
  const K = vectors[0].length;
  const out = new Float64Array(K);
  for (const v of vectors) {
    if (v.length !== K) throw new RangeError(`vectors of ${K} and ${v.length} channels cannot be combined`);
    for (let j = 0; j < K; j++) {
      const a = Math.abs(v[j]);
      if (a > out[j] || Number.isNaN(a)) out[j] = a;
    }
  }
  return out;
}

/** The activation absmax after smoothing: X' = X·diag(s)⁻¹, so max|X'_j| = max|X_j| / s_j. */
export function smoothedAbsmax(absmax: ArrayLike<number>, s: ArrayLike<number>): Float64Array {
  if (absmax.length !== s.length) throw new RangeError(`absmax has ${absmax.length} channels but s has ${s.length}`);
  return Float64Array.from({ length: s.length }, (_, j) => absmax[j] / s[j]);
}

/**
 * The Hessian of the smoothed activation: H = Σ XᵀX and X' = X·S⁻¹ with S = diag(s), so
 * H' = S⁻¹·H·S⁻¹, i.e. H'_ij = H_ij / (s_i·s_j). With it a caller reports the smoothed layer's
 * error (or runs GPTQ on it) without calibrating the rewritten model again.
 */
export function smoothedHessian(H: Float64Array, d: number, s: ArrayLike<number>): Float64Array {
  if (H.length !== d * d) throw new RangeError(`Hessian has ${H.length} values, expected ${d}×${d}`);
  if (s.length !== d) throw new RangeError(`s has ${s.length} channels, expected ${d}`);
  const inv = Float64Array.from({ length: d }, (_, j) => 1 / s[j]);
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) out[row + j] = H[row + j] * inv[i] * inv[j];
  }
  return out;
}

/** max and min of s, for reports. */
export function smoothScaleRange(s: ArrayLike<number>): { readonly maxScale: number; readonly minScale: number } {
  let maxScale = -Infinity, minScale = Infinity;
  for (let j = 0; j < s.length; j++) {
    if (s[j] > maxScale) maxScale = s[j];
    if (s[j] < minScale) minScale = s[j];
  }
  return s.length ? { maxScale, minScale } : { maxScale: 1, minScale: 1 };
}
