import { applyMask, checkWeight, type PrunedWeight, type WeightArray, type WeightMatrix } from './PrunedWeight';

/**
 * What happens to the trailing group of a row when the input width is not a multiple of M.
 *
 * - `dense` (default): it is kept whole. No N:M kernel covers a partial group, so pruning it buys
 *   no speed and only costs accuracy; this is also what the sensitivity table's 2:4 estimate does.
 * - `proportional`: it keeps ceil(N·len/M) of its len weights, so the tail is never sparser than
 *   N:M and the overall sparsity comes closer to 1 − N/M.
 */
export type PartialGroupPolicy = 'dense' | 'proportional';

/** Options of {@link nmMask} and {@link checkNM}. */
export interface NMOptions {
  /** Treatment of a trailing group shorter than M. Default `dense`. */
  readonly partialGroup?: PartialGroupPolicy;
}

/** Throws unless N:M is a valid pattern (0 ≤ N ≤ M, integers). */
export function checkPattern(N: number, M: number): void {
  if (!Number.isInteger(N) || !Number.isInteger(M) || M < 1 || N < 0 || N > M) throw new RangeError(`invalid N:M pattern ${N}:${M}`);
}

/** Weights a group of `len` consecutive inputs keeps under N:M (len = M for a full group). */
export function keptInGroup(N: number, M: number, len: number, policy: PartialGroupPolicy = 'dense'): number {
  if (len >= M) return N;
  return policy === 'dense' ? len : Math.min(len, Math.ceil((N * len) / M));
}

/**
 * N:M magnitude pruning along the input axis: in every run of M consecutive input channels of
 * each output row, the N weights of largest |w| are kept ("2:4" keeps 2 of every 4). Ties keep
 * the lower input index. A trailing run shorter than M follows `options.partialGroup`.
 *
 * @throws {RangeError} for an invalid pattern, a bad shape or non-finite weights.
 */
export function nmMask<T extends WeightArray>(W: WeightMatrix<T>, N: number, M: number, options: NMOptions = {}): PrunedWeight<T> {
  checkPattern(N, M);
  checkWeight(W);
  const { rows, cols, data } = W;
  const policy = options.partialGroup ?? 'dense';
  const mask = new Uint8Array(rows * cols);
  const order = new Int32Array(M);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c0 = 0; c0 < cols; c0 += M) {
      const len = Math.min(M, cols - c0);
      const keep = keptInGroup(N, M, len, policy);
      // Partial selection sort: the first `keep` slots end up holding the largest |w|, and the
      // strict comparison leaves the lower index in front on ties.
      for (let t = 0; t < len; t++) order[t] = c0 + t;
      for (let t = 0; t < keep; t++) {
        let best = t;
        for (let u = t + 1; u < len; u++) {
          const a = Math.abs(data[row + order[u]]), b = Math.abs(data[row + order[best]]);
          if (a > b || (a === b && order[u] < order[best])) best = u;
        }
        const tmp = order[t];
        order[t] = order[best];
        order[best] = tmp;
        mask[row + order[t]] = 1;
      }
    }
  }
  return applyMask(data, mask);
}

/** The outcome of {@link checkNM}. */
export interface NMCheck {
  /** True when every group satisfies the pattern. */
  readonly ok: boolean;
  /** Number of (row, group) pairs that break it. */
  readonly violations: number;
  /** The first violating group, for a readable failure. */
  readonly first?: { readonly row: number; readonly col: number; readonly nonzeros: number; readonly allowed: number };
}

/**
 * Checks the N:M pattern on a row-major [rows, cols] array (pruned weights or a 0/1 mask): every
 * run of M consecutive inputs in a row has at most N non-zeros, and a trailing partial run at
 * most what `options.partialGroup` allows. With `exact`, a group must have exactly that many
 * non-zeros, which is what a mask (not weights that may be 0 already) must satisfy.
 */
export function checkNM(W: WeightMatrix<WeightArray | Uint8Array>, N: number, M: number, options: NMOptions & { readonly exact?: boolean } = {}): NMCheck {
  checkPattern(N, M);
  const { rows, cols, data } = W;
  if (data.length !== rows * cols) throw new RangeError(`array has ${data.length} values, expected ${rows}×${cols}`);
  let violations = 0;
  let first: NMCheck['first'];
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += M) {
      const len = Math.min(M, cols - c0);
      const allowed = keptInGroup(N, M, len, options.partialGroup ?? 'dense');
      let nonzeros = 0;
      for (let t = 0; t < len; t++) if (data[r * cols + c0 + t] !== 0) nonzeros++;
      if (nonzeros > allowed || (options.exact === true && nonzeros !== allowed)) {
        violations++;
        first ??= { row: r, col: c0, nonzeros, allowed };
      }
    }
  }
  return first === undefined ? { ok: true, violations } : { ok: false, violations, first };
}
