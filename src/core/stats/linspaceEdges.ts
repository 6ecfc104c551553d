/**
 * The bin edges numpy's `histogram(a, bins, range=(lo, hi))` uses: `np.linspace(lo, hi, bins+1)`
 * computed the way numpy does it (i·step + lo, last edge set to hi), with the range widened by
 * ±0.5 when lo = hi. Reproducing numpy's arithmetic makes our bin counts equal to numpy's.
 */
export function linspaceEdges(lo: number, hi: number, bins: number): Float64Array {
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = new Float64Array(bins + 1);
  const step = (hi - lo) / bins;
  for (let i = 0; i < bins; i++) edges[i] = i * step + lo;
  edges[bins] = hi;
  return edges;
}
