/** numpy's median of values sorted ascending: the mean of the two middle values for an even count; 0 when empty. */
export function medianOfSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return 0;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/**
 * max / median of per-channel absmax: SmoothQuant's "difficulty" of an activation, and the outlier
 * ratio of a weight's channels. Null when there are no values or the median is 0.
 */
export function maxOverMedian(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const median = medianOfSorted(sorted);
  return median > 0 ? sorted[sorted.length - 1] / median : null;
}
