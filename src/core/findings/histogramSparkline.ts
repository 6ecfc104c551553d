import type { Histogram } from '../../protocol/statsTypes';

const BARS = '▁▂▃▄▅▆▇█';

/**
 * A histogram in one line of block characters: the bins merged into `width` columns, each
 * column's height the log of its count (weight histograms span orders of magnitude), blank for
 * an empty column, so outliers far in the tails stay visible.
 */
export function histogramSparkline(h: Histogram, width = 32): string {
  const n = h.counts.length;
  if (!n) return '';
  const cols = Math.min(width, n);
  const merged = new Array<number>(cols).fill(0);
  for (let i = 0; i < n; i++) merged[Math.min(cols - 1, Math.floor((i * cols) / n))] += h.counts[i];
  const top = Math.log1p(Math.max(...merged));
  return merged.map((c) => (c === 0 || top === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((Math.log1p(c) / top) * (BARS.length - 1) + 1e-9))])).join('');
}
