import type { WeightArray, WeightMatrix } from './PrunedWeight';

/** Throws unless `perm` is a permutation of 0..n−1. */
export function checkPermutation(perm: Int32Array, n: number): void {
  if (perm.length !== n) throw new RangeError(`permutation has ${perm.length} entries, expected ${n}`);
  const seen = new Uint8Array(n);
  for (const p of perm) {
    if (!(p >= 0 && p < n) || seen[p] !== 0) throw new RangeError(`not a permutation of 0..${n - 1}: ${p}`);
    seen[p] = 1;
  }
}

/**
 * W with its input channels (columns) reordered: new column j = old column perm[j]. Equivalent
 * to W·P for the permutation matrix P with P[perm[j], j] = 1.
 */
export function permuteColumns<T extends WeightArray>(W: WeightMatrix<T>, perm: Int32Array): WeightMatrix<T> {
  const { rows, cols, data } = W;
  checkPermutation(perm, cols);
  const out = data.slice() as T;
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let j = 0; j < cols; j++) out[row + j] = data[row + perm[j]];
  }
  return { rows, cols, data: out };
}

/**
 * W with its output channels (rows) reordered: new row j = old row perm[j], i.e. Pᵀ·W. Applied
 * to the layer that produces a permuted layer's input (with {@link permuteVector} on its bias),
 * it emits the activation already in the permuted order, so no Gather is needed:
 * (W₂·P)·(Pᵀ·W₁·x + Pᵀ·b₁) = W₂·(W₁·x + b₁), and any elementwise activation in between commutes
 * with the permutation.
 */
export function permuteRows<T extends WeightArray>(W: WeightMatrix<T>, perm: Int32Array): WeightMatrix<T> {
  const { rows, cols, data } = W;
  checkPermutation(perm, rows);
  const out = data.slice() as T;
  for (let j = 0; j < rows; j++) out.set(data.subarray(perm[j] * cols, (perm[j] + 1) * cols), j * cols);
  return { rows, cols, data: out };
}

/**
 * x reordered the same way as W's columns: out[j] = x[perm[j]], i.e. Pᵀ·x. Then
 * (W·P)·(Pᵀ·x) = W·x: this is what the producer of x must do to its output channels (or a
 * Gather on the activation) for the permuted layer to compute the same function.
 */
export function permuteVector<T extends WeightArray>(x: T, perm: Int32Array): T {
  checkPermutation(perm, x.length);
  const out = x.slice() as T;
  for (let j = 0; j < perm.length; j++) out[j] = x[perm[j]];
  return out;
}

/** The inverse permutation: inv[perm[j]] = j. */
export function invertPermutation(perm: Int32Array): Int32Array {
  checkPermutation(perm, perm.length);
  const inv = new Int32Array(perm.length);
  for (let j = 0; j < perm.length; j++) inv[perm[j]] = j;
  return inv;
}
