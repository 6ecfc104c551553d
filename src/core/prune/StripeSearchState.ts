import { CancelledError } from '../linalg/CancelledError';
import { stripeKept, stripeKept4 } from './stripeKept';
import type { StripeGroupPartitions } from './stripeGroupPartitions';

/**
 * The state of a channel permutation search (Pool & Yu 2021) over W [rows, cols] for N:M
 * sparsity: the current permutation, the magnitude each stripe keeps, and, for every stripe
 * group, the best redistribution of its columns and what it would gain. Moves change only a
 * few stripes, so a group is evaluated again only when one of its stripes changed since.
 *
 * Terms: a stripe is M consecutive columns of the permuted W (one N:M group per row); a stripe
 * group is a set of G stripes whose G·M columns are redistributed exhaustively.
 */
export class StripeSearchState {
  /** Current permutation: position j holds original column perm[j]. */
  readonly perm: Int32Array;
  /** Σ of {@link stripeKeptOf} over stripes: the magnitude the N:M mask keeps now. */
  total = 0;
  /** Stripe-group evaluations so far (the unit of work, for statistics). */
  groupEvaluations = 0;
  /** Single stripe evaluations so far. */
  stripeEvaluations = 0;

  /** Number of stripes (cols / M). */
  readonly stripes: number;
  /** Number of stripe groups, C(stripes, G). */
  readonly groupCount: number;
  /** Best gain of each group over its current arrangement (≥ 0: the identity is a candidate). */
  readonly gain: Float64Array;
  /** Partition index achieving {@link gain}. */
  readonly bestPartition: Int32Array;
  /** Best gain of each group among the partitions that change something (may be negative). */
  readonly regressionGain: Float64Array;
  /** Partition index achieving {@link regressionGain}. */
  readonly regressionPartition: Int32Array;

  private readonly stripeKeptOf: Float64Array;
  /** The G stripes of each group, flattened. */
  private readonly groupStripes: Int32Array;
  private readonly offsets: Int32Array;
  private readonly local: Int32Array;
  private readonly subsetKept: Float64Array;
  private readonly scratch: Float64Array;
  /** When each stripe last changed, and when each group was last evaluated (a move counter). */
  private readonly stripeVersion: Int32Array;
  private readonly groupVersion: Int32Array;
  private version = 1;

  /**
   * @param A |W| column by column: A[c·rows + r] = |W[r, c]|.
   * @param partitions the stripe-group partitions for G and M; G = 1 disables the group table.
   */
  constructor(
    private readonly A: Float64Array,
    private readonly rows: number,
    cols: number,
    private readonly N: number,
    private readonly M: number,
    private readonly partitions: StripeGroupPartitions,
    private readonly isCancelled?: () => boolean,
  ) {
    this.perm = Int32Array.from({ length: cols }, (_, i) => i);
    this.stripes = cols / M;
    this.offsets = new Int32Array(M);
    this.scratch = new Float64Array(Math.max(1, N));
    this.stripeKeptOf = new Float64Array(this.stripes);
    for (let s = 0; s < this.stripes; s++) this.refreshStripe(s);
    const G = partitions.G;
    const combos = G >= 2 && this.stripes >= G ? combinations(this.stripes, G) : [];
    this.groupCount = combos.length / Math.max(G, 1);
    this.groupStripes = Int32Array.from(combos);
    this.gain = new Float64Array(this.groupCount);
    this.bestPartition = new Int32Array(this.groupCount);
    this.regressionGain = new Float64Array(this.groupCount);
    this.regressionPartition = new Int32Array(this.groupCount);
    this.local = new Int32Array(G * M);
    this.subsetKept = new Float64Array(partitions.subsetCount);
    this.stripeVersion = new Int32Array(this.stripes);
    this.groupVersion = new Int32Array(this.groupCount);
  }

  /** The magnitude stripe s keeps under the current permutation. */
  keptOf(s: number): number {
    return this.stripeKeptOf[s];
  }

  /** Recomputes stripe s's kept magnitude from the permutation and updates the total. */
  refreshStripe(s: number): void {
    const { M, rows, offsets, perm } = this;
    for (let i = 0; i < M; i++) offsets[i] = perm[s * M + i] * rows;
    const v = stripeKept(this.A, rows, offsets, this.N, this.scratch);
    this.stripeEvaluations++;
    this.total += v - this.stripeKeptOf[s];
    this.stripeKeptOf[s] = v;
  }

  /**
   * Kept magnitude of stripe s if position `at` held original column `column` instead: the
   * evaluation a channel swap needs.
   */
  keptWith(s: number, at: number, column: number): number {
    const { M, rows, offsets, perm } = this;
    for (let i = 0; i < M; i++) {
      const j = s * M + i;
      offsets[i] = (j === at ? column : perm[j]) * rows;
    }
    this.stripeEvaluations++;
    return stripeKept(this.A, rows, offsets, this.N, this.scratch);
  }

  /**
   * Whether group g's {@link gain} is out of date: one of its stripes changed after the group
   * was last evaluated. Groups of untouched stripes keep their gain, which is what makes later
   * sweeps cheap.
   */
  isStale(g: number): boolean {
    const G = this.partitions.G;
    const seen = this.groupVersion[g];
    for (let k = 0; k < G; k++) if (this.stripeVersion[this.groupStripes[g * G + k]] >= seen) return true;
    return false;
  }

  /**
   * Stripe-group optimization for one group: the kept magnitude of every M-subset of its G·M
   * columns, then of every partition as a sum of G subsets, compared with the identity.
   */
  evaluateGroup(g: number): void {
    const { M, rows, perm, local, offsets, subsetKept } = this;
    const { G, subsets, subsetCount, partitions, partitionCount } = this.partitions;
    for (let k = 0; k < G; k++) {
      const s = this.groupStripes[g * G + k];
      for (let i = 0; i < M; i++) local[k * M + i] = perm[s * M + i] * rows;
    }
    if (M === 4) {
      for (let u = 0; u < subsetCount; u++) {
        const q = u * 4;
        subsetKept[u] = stripeKept4(this.A, rows, local[subsets[q]], local[subsets[q + 1]], local[subsets[q + 2]], local[subsets[q + 3]], this.N);
      }
    } else {
      for (let u = 0; u < subsetCount; u++) {
        for (let i = 0; i < M; i++) offsets[i] = local[subsets[u * M + i]];
        subsetKept[u] = stripeKept(this.A, rows, offsets, this.N, this.scratch);
      }
    }
    let identity = 0;
    for (let k = 0; k < G; k++) identity += subsetKept[partitions[k]];
    let best = 0, bestP = 0, regression = -Infinity, regressionP = 0;
    for (let p = 1; p < partitionCount; p++) {
      let v = 0;
      for (let k = 0; k < G; k++) v += subsetKept[partitions[p * G + k]];
      const d = v - identity;
      if (d > best) {
        best = d;
        bestP = p;
      }
      if (d > regression) {
        regression = d;
        regressionP = p;
      }
    }
    this.groupVersion[g] = ++this.version;
    this.gain[g] = best;
    this.bestPartition[g] = bestP;
    this.regressionGain[g] = regression;
    this.regressionPartition[g] = regressionP;
    this.groupEvaluations++;
  }

  /** Redistributes group g's columns by partition p. */
  applyPartition(g: number, p: number): void {
    const { M, perm, local } = this;
    const { G, subsets, partitions } = this.partitions;
    for (let k = 0; k < G; k++) {
      const s = this.groupStripes[g * G + k];
      for (let i = 0; i < M; i++) local[k * M + i] = perm[s * M + i];
    }
    for (let k = 0; k < G; k++) {
      const s = this.groupStripes[g * G + k];
      const u = partitions[p * G + k];
      for (let i = 0; i < M; i++) perm[s * M + i] = local[subsets[u * M + i]];
    }
    const changed: number[] = [];
    for (let k = 0; k < G; k++) changed.push(this.groupStripes[g * G + k]);
    this.stripesChanged(changed);
  }

  /** Swaps the original columns at positions i and j (a channel swap). */
  swapColumns(i: number, j: number): void {
    const t = this.perm[i];
    this.perm[i] = this.perm[j];
    this.perm[j] = t;
  }

  /** After the permutation changed in the given stripes: refreshes them and marks their groups stale. */
  stripesChanged(stripes: readonly number[]): void {
    const v = ++this.version;
    for (const s of stripes) {
      this.refreshStripe(s);
      this.stripeVersion[s] = v;
    }
  }

  /** Sets the permutation to `target`, refreshing only the stripes that differ. */
  restore(target: Int32Array): void {
    const changed: number[] = [];
    for (let s = 0; s < this.stripes; s++) {
      let same = true;
      for (let i = 0; i < this.M; i++) if (this.perm[s * this.M + i] !== target[s * this.M + i]) same = false;
      if (!same) changed.push(s);
    }
    if (changed.length === 0) return;
    this.perm.set(target);
    this.stripesChanged(changed);
  }

  /** Throws {@link CancelledError} when the caller asked to stop. */
  checkCancelled(): void {
    if (this.isCancelled?.() === true) throw new CancelledError('channel permutation search cancelled');
  }
}

/** All k-combinations of 0..n−1 in lexicographic order, flattened. */
function combinations(n: number, k: number): number[] {
  const out: number[] = [];
  const c = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    out.push(...c);
    let i = k - 1;
    while (i >= 0 && c[i] === n - k + i) i--;
    if (i < 0) return out;
    c[i]++;
    for (let j = i + 1; j < k; j++) c[j] = c[j - 1] + 1;
  }
}
