/**
 * Exact selection of the k smallest scores, shared by magnitude pruning (scores |w|) and
 * SparseGPT's adaptive mask selection (scores w²/[Hinv]²_cc).
 */

/**
 * The k-th smallest value (k is 0-based) of `values`, found by selection in expected linear time.
 * `scratch` is reordered; pass a copy when the order matters.
 */
export function kthSmallest(scratch: Float32Array | Float64Array, k: number): number {
  if (!(k >= 0 && k < scratch.length)) throw new RangeError(`rank ${k} outside 0..${scratch.length - 1}`);
  let lo = 0, hi = scratch.length - 1;
  // Quickselect with median-of-three pivots; a depth limit falls back to sorting the remaining
  // range, so adversarial inputs cost O(n log n), never O(n²).
  let budget = 2 * Math.ceil(Math.log2(scratch.length + 1)) + 8;
  while (hi > lo) {
    if (budget-- === 0) {
      scratch.subarray(lo, hi + 1).sort();
      return scratch[k];
    }
    const mid = lo + ((hi - lo) >> 1);
    const a = scratch[lo], b = scratch[mid], c = scratch[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    // Three-way partition: [lo, lt) < pivot, [lt, gt] = pivot, (gt, hi] > pivot. Runs of equal
    // scores (ties, pruned zeros) collapse in one pass.
    let lt = lo, i = lo, gt = hi;
    while (i <= gt) {
      const v = scratch[i];
      if (v < pivot) {
        scratch[i] = scratch[lt];
        scratch[lt++] = v;
        i++;
      } else if (v > pivot) {
        scratch[i] = scratch[gt];
        scratch[gt--] = v;
      } else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return scratch[k];
}

/**
 * Marks exactly `k` entries of `scores` as removed: every score below the k-th smallest, then
 * entries equal to it in increasing index order until k are marked, so the result is
 * deterministic under ties. `keep[i]` is set to 0 for removed entries and left untouched
 * otherwise.
 *
 * @returns the threshold score (the k-th smallest), or -Infinity when k = 0.
 */
export function removeSmallest(scores: Float32Array | Float64Array, k: number, keep: Uint8Array): number {
  const n = scores.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`cannot remove ${k} of ${n} entries`);
  if (k === 0) return -Infinity;
  const threshold = kthSmallest(scores.slice(), k - 1);
  let below = 0;
  for (let i = 0; i < n; i++) if (scores[i] < threshold) below++;
  let ties = k - below;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (s < threshold) keep[i] = 0;
    else if (s === threshold && ties > 0) {
      keep[i] = 0;
      ties--;
    }
  }
  return threshold;
}
