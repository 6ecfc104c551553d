import { medianOfSorted } from './maxOverMedian';
import type { ChannelSummary } from './TensorStats';

/**
 * Summary of per-channel absmax: max, numpy-style median, max/median and the `topK` largest
 * channels (ties by lower index). `absmax` must be non-empty.
 */
export function summarizeChannels(absmax: Float64Array, topK: number, includeValues: boolean): ChannelSummary {
  const n = absmax.length;
  const sorted = Float64Array.from(absmax).sort();
  const max = sorted[n - 1];
  const median = medianOfSorted(sorted);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => absmax[b] - absmax[a] || a - b);
  const top = order.slice(0, Math.max(0, Math.min(topK, n))).map((index) => ({ index, absmax: absmax[index] }));
  return {
    count: n,
    max,
    median,
    maxOverMedian: median > 0 ? max / median : null,
    top,
    ...(includeValues ? { absmax: Array.from(absmax) } : {}),
  };
}
