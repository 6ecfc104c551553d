import { prunedCount } from './magnitudePrune';
import { checkPattern } from './nmMask';
import type { WeightArray, WeightMatrix } from './PrunedWeight';
import { kthSmallest } from './removeSmallest';

/**
 * Σ|w| an N:M mask keeps when W's columns are taken in the order `perm` (identity when omitted):
 * Pool & Yu's permutation quality metric. Requires cols to be a multiple of M.
 */
export function nmKeptMagnitude(W: WeightMatrix, N: number, M: number, perm?: Int32Array): number {
  checkPattern(N, M);
  const { rows, cols, data } = W;
  if (cols % M !== 0) throw new RangeError(`${cols} input channels are not a whole number of ${M}-column stripes`);
  const top = new Float64Array(N);
  let s = 0;
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c0 = 0; c0 < cols; c0 += M) {
      top.fill(-1);
      for (let t = 0; t < M; t++) {
        const v = Math.abs(data[row + (perm === undefined ? c0 + t : perm[c0 + t])]);
        let i = N - 1;
        if (i < 0 || v <= top[i]) continue;
        while (i > 0 && top[i - 1] < v) {
          top[i] = top[i - 1];
          i--;
        }
        top[i] = v;
      }
      for (let i = 0; i < N; i++) s += top[i];
    }
  }
  return s;
}

/**
 * Σ|w| unstructured magnitude pruning keeps at the sparsity of N:M (1 − N/M) over the whole
 * matrix: the upper bound no permutation can beat, and the denominator's reference point in
 * the efficacy metric.
 */
export function unstructuredKeptMagnitude(data: WeightArray, N: number, M: number): number {
  checkPattern(N, M);
  const pruned = prunedCount(data.length, 1 - N / M);
  const abs = Float64Array.from(data, Math.abs);
  let total = 0;
  for (const v of abs) total += v;
  if (pruned === 0) return total;
  const threshold = kthSmallest(abs.slice(), pruned - 1);
  let removed = 0, below = 0;
  for (const v of abs) {
    if (v < threshold) {
      removed += v;
      below++;
    }
  }
  return total - removed - (pruned - below) * threshold;
}

/**
 * Pool & Yu's efficacy of a permutation: the share of the gap between the default N:M mask and
 * unstructured pruning that it closes,
 * (kept − default N:M kept) / (unstructured kept − default N:M kept). 0 when there is no gap.
 */
export function permutationEfficacy(kept: number, defaultKept: number, unstructuredKept: number): number {
  const gap = unstructuredKept - defaultKept;
  return gap > 0 ? (kept - defaultKept) / gap : 0;
}
