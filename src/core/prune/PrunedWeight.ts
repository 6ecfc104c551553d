/** A weight array as the pruning kernels take and return it: float32 as models store it, or float64. */
export type WeightArray = Float32Array | Float64Array;

/** A row-major weight W [rows = out, cols = in] (or a mask of the same layout). */
export interface WeightMatrix<T extends WeightArray | Uint8Array = WeightArray> {
  /** Output channels. */
  readonly rows: number;
  /** Input channels. */
  readonly cols: number;
  /** Row-major values, length rows·cols. */
  readonly data: T;
}

/** The result of pruning one weight. */
export interface PrunedWeight<T extends WeightArray = WeightArray> {
  /** 1 where the weight is kept, 0 where it is pruned; row-major like the weight. */
  readonly mask: Uint8Array;
  /** The weight with pruned entries set to 0 (a new array of the input's type). */
  readonly weights: T;
  /** Fraction of entries the mask prunes (weights already 0 count only if the mask prunes them). */
  readonly sparsity: number;
}

/** Throws unless `w` is a well-formed matrix of finite values. */
export function checkWeight(w: WeightMatrix, what = 'weight'): void {
  const { rows, cols, data } = w;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`invalid ${what} shape ${rows}×${cols}`);
  if (data.length !== rows * cols) throw new RangeError(`${what} has ${data.length} values, expected ${rows}×${cols}`);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw new RangeError(`${what} has a non-finite value at (${Math.floor(i / cols)}, ${i % cols})`);
}

/** W ⊙ mask as a new array of W's type, and the mask's sparsity. */
export function applyMask<T extends WeightArray>(data: T, mask: Uint8Array): PrunedWeight<T> {
  const weights = data.slice() as T;
  let pruned = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) {
      weights[i] = 0;
      pruned++;
    }
  }
  return { mask, weights, sparsity: mask.length === 0 ? 0 : pruned / mask.length };
}
