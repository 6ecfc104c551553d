/**
 * numpy's median (the mean of the two middle values for an even count) by selection in O(n)
 * instead of a sort: findings take medians of every layer's channels, thousands per model.
 * Reorders `values` in place; NaN for an empty array.
 */
export function selectMedian(values: Float64Array): number {
  const [a, b] = selectMiddle(values);
  return (a + b) / 2;
}

/** The two middle values of `values` in ascending order (the same one twice for an odd count); reorders in place. */
export function selectMiddle(values: Float64Array): [number, number] {
  const n = values.length;
  if (n === 0) return [NaN, NaN];
  const k = n >> 1;
  select(values, k);
  if (n % 2 === 1) return [values[k], values[k]];
  // After selecting k, every value left of it is ≤ values[k]: the other middle value is their max.
  let below = -Infinity;
  for (let i = 0; i < k; i++) if (values[i] > below) below = values[i];
  return [below, values[k]];
}

/** Hoare's selection: afterwards a[k] is the k-th smallest, smaller ones left of it, larger right. */
function select(a: Float64Array, k: number): void {
  let lo = 0, hi = a.length - 1;
  while (hi > lo) {
    // Median of three as the pivot keeps sorted and reversed inputs linear.
    const mid = (lo + hi) >> 1;
    const p = Math.max(Math.min(a[lo], a[mid]), Math.min(Math.max(a[lo], a[mid]), a[hi]));
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}
