/**
 * The distinct ways to distribute the G·M columns of a stripe group among its G stripes of M
 * columns (Pool & Yu §4: the order of columns within a stripe, and the order of the stripes,
 * do not change the N:M mask's kept magnitude, so only set partitions count). For G = 2 and
 * M = 4 that is C(8,4)/2 = 35.
 */
export interface StripeGroupPartitions {
  /** Stripes per group (G). */
  readonly G: number;
  /** Columns per stripe (M). */
  readonly M: number;
  /** Every M-subset of the G·M local columns, M local indices each, flattened. */
  readonly subsets: Int32Array;
  /** Number of subsets, C(G·M, M). */
  readonly subsetCount: number;
  /**
   * The partitions as G subset indices each, flattened. Partition 0 is the identity: local
   * columns 0..M−1 in the first stripe, M..2M−1 in the second, and so on.
   */
  readonly partitions: Int32Array;
  /** Number of partitions, (G·M)! / ((M!)^G · G!). */
  readonly partitionCount: number;
}

/** Partitions beyond this make a stripe group too expensive to search exhaustively. */
export const MAX_PARTITIONS = 200_000;

/**
 * Enumerates the partitions of a stripe group of G stripes of M columns.
 *
 * @throws {RangeError} when G < 1, M < 1, G·M > 30 or the count exceeds {@link MAX_PARTITIONS}.
 */
export function stripeGroupPartitions(G: number, M: number): StripeGroupPartitions {
  if (!Number.isInteger(G) || !Number.isInteger(M) || G < 1 || M < 1 || G * M > 30) throw new RangeError(`cannot search stripe groups of ${G} stripes of ${M} columns`);
  const width = G * M;
  const count = partitionCount(G, M);
  if (count > MAX_PARTITIONS) throw new RangeError(`a stripe group of ${G}×${M} columns has ${count} partitions, more than ${MAX_PARTITIONS}`);

  // Subsets are indexed by their bit mask over the local columns.
  const subsetIndex = new Map<number, number>();
  const subsetList: number[] = [];
  const addSubset = (mask: number): number => {
    let id = subsetIndex.get(mask);
    if (id === undefined) {
      id = subsetIndex.size;
      subsetIndex.set(mask, id);
      for (let c = 0; c < width; c++) if ((mask & (1 << c)) !== 0) subsetList.push(c);
    }
    return id;
  };

  // Canonical form: each stripe holds the lowest column not yet placed, so every set partition
  // is produced once; choosing the remaining M−1 columns in increasing order makes the first
  // partition produced the identity.
  const partitions: number[] = [];
  const current: number[] = [];
  const fill = (free: number): void => {
    if (free === 0) {
      partitions.push(...current);
      return;
    }
    const lowest = free & -free;
    const rest = free & ~lowest;
    const choose = (from: number, need: number, mask: number): void => {
      if (need === 0) {
        current.push(addSubset(mask));
        fill(free & ~mask);
        current.pop();
        return;
      }
      for (let c = from; c < width; c++) if ((rest & (1 << c)) !== 0) choose(c + 1, need - 1, mask | (1 << c));
    };
    choose(0, M - 1, lowest);
  };
  fill((2 ** width) - 1);

  return {
    G,
    M,
    subsets: Int32Array.from(subsetList),
    subsetCount: subsetIndex.size,
    partitions: Int32Array.from(partitions),
    partitionCount: partitions.length / G,
  };
}

/** (G·M)! / ((M!)^G · G!), computed as a product of binomials to stay exact. */
export function partitionCount(G: number, M: number): number {
  let count = 1;
  // Place stripe by stripe: the lowest free column is fixed, choose M−1 of the others.
  for (let left = G * M; left > 0; left -= M) count *= binomial(left - 1, M - 1);
  return count;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}
