import { BlockedPass } from './BlockedPass';
import { ChannelAbsmax } from './ChannelAbsmax';
import type { MatrixLayout } from './MatrixLayout';
import { Moments } from './Moments';

export { BLOCK } from './BlockedPass';

/** What the first pass learned; the second pass needs the extremes, mean, σ and channel absmax. */
export interface FirstPassResult {
  readonly count: number;
  readonly nan: number;
  readonly posInf: number;
  readonly negInf: number;
  readonly zeros: number;
  /** Over finite values; +Infinity / −Infinity when there are none. */
  readonly min: number;
  readonly max: number;
  /** Smallest nonzero finite |x|; +Infinity when there is none. */
  readonly minNonzeroAbs: number;
  readonly moments: Moments;
  readonly channels: ChannelAbsmax | null;
}

/**
 * Pass 1 of the statistics: one streaming pass gives count, extremes, zero / NaN / Inf counts,
 * the moments (mean, M2, M3, M4) and, for matrices, the absmax of every row and column.
 *
 * NaN and ±Inf are counted and then excluded from everything else. Blocks are scanned on the
 * assumption that all values are finite (a non-finite value makes the block sum non-finite);
 * only a block that fails the check is redone on a compacted copy.
 */
export class FirstPass extends BlockedPass {
  private count = 0;
  private nan = 0;
  private posInf = 0;
  private negInf = 0;
  private zeros = 0;
  private min = Infinity;
  private max = -Infinity;
  private minNonzeroAbs = Infinity;
  private readonly moments = new Moments();
  declare private readonly channels: ChannelAbsmax | null; // set in the constructor (see LinearHistogram)

  constructor(layout: MatrixLayout | null) {
    super();
    this.channels = layout ? new ChannelAbsmax(layout) : null;
  }

  protected pushBlock(n: number): void {
    const b = this.block;
    if (!this.scan(b, n)) {
      // Slow path: count and drop non-finite values for the moments, zero them for the channels.
      const cp = this.compact;
      let k = 0;
      for (let i = 0; i < n; i++) {
        const x = b[i];
        if (x - x === 0) {
          cp[k++] = x;
        } else {
          if (x !== x) this.nan++;
          else if (x > 0) this.posInf++;
          else this.negInf++;
          b[i] = 0;
        }
      }
      this.scan(cp, k);
    }
    this.channels?.push(b, n, this.count);
    this.count += n;
  }

  /** Folds `data[0..len)` into the extremes and moments; returns false (and changes nothing) if a value is not finite. */
  private scan(data: Float64Array, len: number): boolean {
    const m = this.moments;
    // After the first block the running mean is a good centre, so the extremes, counts and
    // centred power sums come from one loop; the first block finds its own centre first.
    const fused = m.n > 0;
    const c = m.mean;
    let sum = 0;
    let mn = Infinity;
    let mx = -Infinity;
    let z = 0;
    let nz = Infinity;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    for (let i = 0; i < len; i++) {
      const x = data[i];
      const a = Math.abs(x);
      const d = x - c;
      const d2 = d * d;
      sum += x;
      mn = Math.min(mn, x);
      mx = Math.max(mx, x);
      z += x === 0 ? 1 : 0;
      nz = Math.min(nz, a > 0 ? a : Infinity);
      s1 += d;
      s2 += d2;
      s3 += d2 * d;
      s4 += d2 * d2;
    }
    let fromSums = fused;
    if (sum - sum !== 0 || s4 - s4 !== 0) {
      // NaN or ±Inf somewhere — or finite values whose sums overflowed. The caller compacts the
      // former; for the latter, recompute the moments around a rough centre.
      if (len === 0 || !(Number.isFinite(mn) && Number.isFinite(mx))) return false;
      sum = (mn / 2 + mx / 2) * len;
      if (!Number.isFinite(sum)) sum = 0;
      fromSums = false;
    }
    this.zeros += z;
    this.min = Math.min(this.min, mn);
    this.max = Math.max(this.max, mx);
    this.minNonzeroAbs = Math.min(this.minNonzeroAbs, nz);
    if (fromSums) m.pushSums(len, c, s1, s2, s3, s4);
    else m.pushBlock(data, len, sum);
    return true;
  }

  /** The totals so far. */
  finish(): FirstPassResult {
    return {
      count: this.count,
      nan: this.nan,
      posInf: this.posInf,
      negInf: this.negInf,
      zeros: this.zeros,
      min: this.min,
      max: this.max,
      minNonzeroAbs: this.minNonzeroAbs,
      moments: this.moments,
      channels: this.channels,
    };
  }
}
