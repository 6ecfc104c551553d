import { BlockedPass } from './BlockedPass';
import type { FirstPassResult } from './FirstPass';
import { LinearHistogram } from './LinearHistogram';
import { LogHistogram } from './LogHistogram';
import type { MatrixLayout } from './MatrixLayout';
import { QuantErrors } from './QuantErrors';

/**
 * Pass 2 of the statistics, the one extra read the definitions force: the 3σ / 6σ outlier
 * fractions need the mean and σ, the histograms need their ranges, and the per-tensor and
 * per-channel quantization scales need the absmax — all known only after pass 1. Group scales
 * are local and computed here.
 */
export class SecondPass extends BlockedPass {
  outliers3 = 0;
  outliers6 = 0;
  // `declare`d fields set in the constructor keep V8's field types exact (see LinearHistogram).
  declare readonly histogram: LinearHistogram;
  declare readonly logHistogram: LogHistogram | null;
  declare readonly quant: QuantErrors;
  declare private readonly mean: number;
  declare private readonly t3: number;
  declare private readonly t6: number;
  declare private readonly hasNonFinite: boolean;
  private pos = 0;

  /** Needs at least one finite value in `first`. */
  constructor(first: FirstPassResult, std: number, layout: MatrixLayout | null, bins: number, groupSize: number) {
    super();
    this.mean = first.moments.mean;
    // σ = 0 (a constant tensor) has no outliers; +Infinity thresholds say so without a branch.
    this.t3 = std > 0 ? 3 * std : Infinity;
    this.t6 = std > 0 ? 6 * std : Infinity;
    this.hasNonFinite = first.nan + first.posInf + first.negInf > 0;
    this.histogram = new LinearHistogram(first.min, first.max, bins);
    const absmax = Math.max(-first.min, first.max);
    this.logHistogram = first.minNonzeroAbs < Infinity ? new LogHistogram(first.minNonzeroAbs, absmax, bins) : null;
    this.quant = new QuantErrors(absmax, layout, first.channels?.outputAbsmax ?? null, groupSize);
  }

  // push(): the tensor's values again, in the same order as pass 1 saw them.
  protected pushBlock(n: number): void {
    const b = this.block;
    let finite = b;
    let k = n;
    if (this.hasNonFinite) {
      // Histograms and outliers see only finite values; quantization sees non-finite ones as 0.
      finite = this.compact;
      k = 0;
      for (let i = 0; i < n; i++) {
        const x = b[i];
        if (x - x === 0) finite[k++] = x;
        else b[i] = 0;
      }
    }
    const mean = this.mean;
    const t3 = this.t3;
    const t6 = this.t6;
    let o3 = 0;
    let o6 = 0;
    for (let i = 0; i < k; i++) {
      const d = Math.abs(finite[i] - mean);
      o3 += d > t3 ? 1 : 0;
      o6 += d > t6 ? 1 : 0;
    }
    this.outliers3 += o3;
    this.outliers6 += o6;
    this.histogram.push(finite, k);
    this.logHistogram?.push(finite, k);
    this.quant.push(b, n, this.pos);
    this.pos += n;
  }
}
