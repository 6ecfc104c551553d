import { linspaceEdges } from './linspaceEdges';

/**
 * Equal-width histogram over a known range [lo, hi] (from the first pass). The bin of each value
 * is found exactly as numpy's `histogram` finds it — a multiply, truncation, then one comparison
 * against each neighbouring edge — so the counts match numpy's bit for bit.
 */
export class LinearHistogram {
  // Fields are `declare`d and set in the constructor: a class-field definition would first store
  // `undefined`, leaving V8 with boxed, untyped fields that slow every loop reading them ~2×.
  declare readonly edges: Float64Array;
  declare readonly counts: Float64Array;
  /**
   * Per-call integer counts in four interleaved copies: weights crowd into a few central bins,
   * and consecutive increments of one counter would wait on each other's store.
   */
  declare private readonly scratch: Int32Array;
  declare private readonly lo: number;
  declare private readonly norm: number;
  declare private readonly last: number;

  constructor(lo: number, hi: number, bins: number) {
    this.edges = linspaceEdges(lo, hi, bins);
    this.lo = this.edges[0];
    this.norm = bins / (this.edges[bins] - this.edges[0]);
    this.last = bins - 1;
    this.counts = new Float64Array(bins);
    this.scratch = new Int32Array(4 * bins);
  }

  /** Adds `data[0..len)` (len < 2^31); every value must be finite and inside the range. */
  push(data: Float64Array, len: number): void {
    const { edges, scratch, lo, norm, last } = this;
    const bins = last + 1;
    for (let i = 0; i < len; i++) {
      const x = data[i];
      let k = Math.min(((x - lo) * norm) | 0, last);
      if (x < edges[k]) k--;
      if (k !== last && x >= edges[k + 1]) k++;
      scratch[k + (i & 3) * bins]++;
    }
    const counts = this.counts;
    for (let k = 0; k < bins; k++) counts[k] += scratch[k] + scratch[k + bins] + scratch[k + 2 * bins] + scratch[k + 3 * bins];
    scratch.fill(0);
  }
}
