import { linspaceEdges } from './linspaceEdges';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const i64 = new BigInt64Array(f64.buffer);
f64[0] = 1;
/** Index of the 32-bit word holding sign, exponent and top mantissa bits (platform byte order). */
const HI = u32[1] === 0x3ff00000 ? 1 : 0;

function nextDouble(x: number, dir: 1 | -1): number {
  f64[0] = x;
  i64[0] += BigInt(dir);
  return f64[0];
}

/** The smallest positive double `a` with `Math.log10(a) >= e`. */
function threshold(e: number): number {
  let a = Math.pow(10, e);
  if (!(a > 0)) a = Number.MIN_VALUE;
  if (a === Infinity) a = Number.MAX_VALUE;
  if (Math.log10(a) >= e) {
    for (let k = 0; k < 64; k++) {
      const p = nextDouble(a, -1);
      if (p > 0 && Math.log10(p) >= e) a = p;
      else break;
    }
  } else {
    for (let k = 0; k < 64 && Math.log10(a) < e && a < Number.MAX_VALUE; k++) a = nextDouble(a, 1);
  }
  return a;
}

/** Most entries of the guess table: enough that a table step is far narrower than a bin. */
const MAX_GUESS = 1 << 16;

/**
 * Histogram of log10|x| over the nonzero finite values, with numpy's edges over
 * [log10 min|x|, log10 max|x|]. Calling a logarithm per element would dominate the pass, so the
 * edges are turned once into thresholds on |x| itself (the smallest |x| whose log10 reaches each
 * edge). A value's bin is then looked up in a table indexed by the top bits of |x| (positive
 * doubles order like their bit patterns; the table spans only [min|x|, max|x|] with up to 65536
 * steps, much finer than a bin) and settled by comparing |x| with the next thresholds. The
 * result equals binning `Math.log10(|x|)` the way numpy bins, exactly.
 */
export class LogHistogram {
  // `declare`d fields set in the constructor keep V8's field types exact (see LinearHistogram).
  /** Edges in log10 units. */
  declare readonly edges: Float64Array;
  /** Slot 0 collects zeros (dropped); slot i + 1 is bin i. */
  declare private readonly slots: Float64Array;
  declare private readonly scratch: Int32Array;
  /** thresholds[j] is the smallest |x| of slot j; thresholds[0] = 0 and a final +Infinity sentinel. */
  declare private readonly thresholds: Float64Array;
  /** guess[k] is a slot no higher than that of any |x| whose high word h has (h >>> shift) − base + 1 = k; guess[0] = 0 for zeros. */
  declare private readonly guess: Uint16Array;
  declare private readonly shift: number;
  declare private readonly base: number;

  /** `minAbs` and `maxAbs` are the smallest and largest nonzero finite |x| (both > 0). */
  constructor(minAbs: number, maxAbs: number, bins: number) {
    if (bins > 65534) throw new RangeError('at most 65534 bins');
    this.edges = linspaceEdges(Math.log10(minAbs), Math.log10(maxAbs), bins);
    this.slots = new Float64Array(bins + 1);
    this.scratch = new Int32Array(4 * (bins + 1)); // four interleaved copies, as in LinearHistogram
    const t = new Float64Array(bins + 2);
    for (let i = 0; i < bins; i++) t[i + 1] = threshold(this.edges[i]);
    // The smallest value belongs to bin 0 whatever rounding the threshold search met.
    t[1] = Math.min(t[1], minAbs);
    t[bins + 1] = Infinity;
    this.thresholds = t;

    f64[0] = minAbs;
    const hiMin = u32[HI];
    f64[0] = maxAbs;
    const hiMax = u32[HI];
    let shift = 0;
    while ((hiMax >>> shift) - (hiMin >>> shift) >= MAX_GUESS) shift++;
    this.shift = shift;
    this.base = hiMin >>> shift;
    // Entry 0 is for zeros (their index clamps to 0) and stays slot 0; entry k ≥ 1 holds the slot
    // of the smallest |x| ≥ min|x| whose top bits are base + k − 1.
    const guess = new Uint16Array((hiMax >>> shift) - this.base + 2);
    let j = 0;
    for (let k = 1; k < guess.length; k++) {
      u32[HI] = (this.base + k - 1) << shift;
      u32[1 - HI] = 0;
      // A bucket starting at 0 (only when min|x| is subnormal) also holds the zeros: keep slot 0.
      const lowest = f64[0] === 0 ? 0 : Math.max(f64[0], minAbs);
      while (lowest >= t[j + 1]) j++;
      guess[k] = j;
    }
    this.guess = guess;
  }

  /** Adds `data[0..len)` (len < 2^31); values must be finite and within [−max|x|, max|x|]. Zeros are skipped. */
  push(data: Float64Array, len: number): void {
    const { scratch, thresholds: t, guess, slots, shift, base } = this;
    // The high words of the values, read in place: cheaper than a store and reload per element.
    const words = new Uint32Array(data.buffer, data.byteOffset, 2 * len);
    const hiWord = HI;
    const n = slots.length;
    for (let i = 0; i < len; i++) {
      const a = Math.abs(data[i]);
      let j = guess[Math.max(((words[2 * i + hiWord] & 0x7fffffff) >>> shift) - base + 1, 0)];
      while (a >= t[j + 1]) j++;
      scratch[j + (i & 3) * n]++;
    }
    for (let k = 0; k < n; k++) slots[k] += scratch[k] + scratch[k + n] + scratch[k + 2 * n] + scratch[k + 3 * n];
    scratch.fill(0);
  }

  /** Counts per bin, without the zeros. */
  get counts(): Float64Array {
    return this.slots.subarray(1);
  }
}
