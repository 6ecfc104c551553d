import { selectMiddle } from './selectMedian';

/** The α SmoothQuant is suggested with, and the difficulties it leaves behind. */
export interface AlphaSuggestion {
  readonly alpha: number;
  /** max/median of the smoothed activation's channel absmax, max|X_j| / s_j. */
  readonly activationDifficulty: number;
  /** max/median of the smoothed weight's input-channel absmax, max|W_j| · s_j. */
  readonly weightDifficulty: number;
}

/** The α grid: from the paper's default 0.5 up to 0.9, in steps of 0.05. */
const GRID = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];

/**
 * SmoothQuant's α from the measured channel absmax of the activation (`x`) and of the weight's
 * input channels (`w`). With s_j = x_j^α / w_j^(1−α) the activation channels become
 * (x_j·w_j)^(1−α) and the weight's (x_j·w_j)^α: α moves the difficulty from one to the other.
 * Activations are quantized per tensor and weights per output channel, so the weights bear
 * difficulty better; this migrates only as much as needed: the smallest α from 0.5 (the paper's
 * default) to 0.9 whose smoothed activation difficulty (max/median) is at most `target`, or 0.9
 * when none is. Channels where either absmax is 0 carry nothing to balance and are left out.
 * Undefined when no channel is left or the lengths differ.
 */
export function suggestAlpha(x: ArrayLike<number>, w: ArrayLike<number>, target: number): AlphaSuggestion | undefined {
  if (x.length !== w.length) return undefined;
  const logs = new Float64Array(x.length);
  let n = 0, top = -Infinity;
  for (let j = 0; j < x.length; j++) {
    if (!(x[j] > 0 && w[j] > 0 && Number.isFinite(x[j]) && Number.isFinite(w[j]))) continue;
    const v = Math.log(x[j] * w[j]);
    logs[n++] = v;
    if (v > top) top = v;
  }
  if (!n) return undefined;
  // v ↦ v^p keeps the order of the channels, so the maximum and the two middle values of
  // log(x_j·w_j) (numpy's median) are the same channels at every α: one selection serves all.
  const [lo, hi] = selectMiddle(logs.subarray(0, n));
  const difficultyAt = (p: number): number => Math.exp(p * top) / ((Math.exp(p * lo) + Math.exp(p * hi)) / 2);
  let last: AlphaSuggestion | undefined;
  for (const alpha of GRID) {
    // log(x_j / s_j) = (1−α)(log x_j + log w_j); log(w_j · s_j) = α(log x_j + log w_j).
    last = { alpha, activationDifficulty: difficultyAt(1 - alpha), weightDifficulty: difficultyAt(alpha) };
    if (last.activationDifficulty <= target) return last;
  }
  return last;
}
