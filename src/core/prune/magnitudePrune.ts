import { applyMask, checkWeight, type PrunedWeight, type WeightArray, type WeightMatrix } from './PrunedWeight';
import { removeSmallest } from './removeSmallest';

/**
 * The number of weights to prune out of `n` for a target sparsity s ∈ [0, 1]: round(s·n), so
 * the achieved sparsity is the closest one a whole number of weights allows.
 */
export function prunedCount(n: number, sparsity: number): number {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new RangeError(`sparsity must be in [0, 1], got ${sparsity}`);
  return Math.round(sparsity * n);
}

/**
 * Unstructured magnitude pruning of one layer: removes exactly round(s·rows·cols) weights, those
 * of smallest |w|. The threshold comes from a linear-time selection, not a sort. Ties at the
 * threshold are pruned in row-major index order (the earlier weight goes first), so the result
 * is deterministic and the sparsity exact.
 *
 * @throws {RangeError} for a bad shape, non-finite weights or a sparsity outside [0, 1].
 */
export function magnitudePrune<T extends WeightArray>(W: WeightMatrix<T>, sparsity: number): PrunedWeight<T> {
  return magnitudePruneGlobal([W], sparsity)[0];
}

/**
 * Global unstructured magnitude pruning: one threshold over all the given layers, so layers with
 * small weights lose more than layers with large ones. Exactly round(s·Σ rows·cols) weights are
 * pruned in all. Ties at the threshold are pruned in layer order, then row-major index order.
 *
 * @returns one result per layer, in the order given; each reports its own sparsity.
 * @throws {RangeError} for a bad shape, non-finite weights or a sparsity outside [0, 1].
 */
export function magnitudePruneGlobal<T extends WeightArray>(layers: readonly WeightMatrix<T>[], sparsity: number): PrunedWeight<T>[] {
  let total = 0;
  let allFloat32 = true;
  for (const [i, w] of layers.entries()) {
    checkWeight(w, `layer ${i}`);
    total += w.data.length;
    if (!(w.data instanceof Float32Array)) allFloat32 = false;
  }
  const k = prunedCount(total, sparsity);
  // |w| of a float32 weight is exact in float32: half the scratch memory for the usual case.
  const scores = allFloat32 ? new Float32Array(total) : new Float64Array(total);
  let at = 0;
  for (const w of layers) {
    const d = w.data;
    for (let i = 0; i < d.length; i++) scores[at + i] = Math.abs(d[i]);
    at += d.length;
  }
  const keep = new Uint8Array(total).fill(1);
  removeSmallest(scores, k, keep);
  at = 0;
  return layers.map((w) => {
    const mask = keep.slice(at, at + w.data.length);
    at += w.data.length;
    return applyMask(w.data, mask);
  });
}

/** Σ |w| over the weights the mask keeps: the quality measure of magnitude-based masks. */
export function keptMagnitude(data: WeightArray, mask: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) if (mask[i] !== 0) s += Math.abs(data[i]);
  return s;
}
