import { checkPattern } from './nmMask';
import { nmKeptMagnitude, permutationEfficacy, unstructuredKeptMagnitude } from './permutationEfficacy';
import { checkWeight, type WeightMatrix } from './PrunedWeight';
import { seededRandom } from '../random/seededRandom';
import { stripeGroupPartitions } from './stripeGroupPartitions';
import { StripeSearchState } from './StripeSearchState';

/** How the search moves between permutations. */
export type PermutationStrategy =
  /** Pool & Yu's stripe-group optimization with bounded regressions (the default). */
  | 'stripeGroups'
  /** The simpler channel-swap search: swap two columns of different stripes when that helps. */
  | 'channelSwaps';

/** Options of {@link channelPermutation}. */
export interface ChannelPermutationOptions {
  /** Search strategy. Default `stripeGroups`. */
  readonly strategy?: PermutationStrategy;
  /** Stripes per stripe group (G); G·M columns are redistributed exhaustively. Default 2. */
  readonly stripesPerGroup?: number;
  /**
   * Bounded regressions: how many non-improving stripe-group moves the whole search may take
   * when it is stuck. Default 8.
   */
  readonly maxRegressions?: number;
  /**
   * The largest loss of kept magnitude a regression may cost, as a fraction of the mean kept
   * magnitude of a stripe. Default 0.02.
   */
  readonly regressionBound?: number;
  /**
   * Escapes from a local optimum: each perturbs the best permutation by random channel swaps
   * and searches again, keeping the result only if it is better. Each costs about a quarter
   * of the first local search. Default 4.
   */
  readonly escapeAttempts?: number;
  /**
   * Upper limit on the sweeps over all stripe groups (or column pairs) of one local search: an
   * effort cap for wide layers, whose stripe-group count grows with the square of the width.
   * Default unlimited (search to a local optimum).
   */
  readonly maxSweeps?: number;
  /** Channel swaps per escape. Default 2. */
  readonly swapsPerEscape?: number;
  /** Seed of the perturbations; the same seed gives the same permutation. Default 1. */
  readonly seed?: number;
  /** Called after the first local search and after each escape attempt. */
  readonly onProgress?: (progress: PermutationProgress) => void;
  /** Polled between stripe-group evaluations; returning true aborts with CancelledError. */
  readonly isCancelled?: () => boolean;
}

/** What {@link ChannelPermutationOptions.onProgress} receives. */
export interface PermutationProgress {
  /** Escape attempts done (0 after the first local search). */
  readonly escapesDone: number;
  /** Escape attempts planned. */
  readonly escapesTotal: number;
  /** Magnitude the N:M mask keeps with the best permutation so far. */
  readonly bestKept: number;
}

/** Work counters of a search, for benchmarks and tuning. */
export interface PermutationStats {
  /** Stripe groups evaluated exhaustively. */
  readonly groupEvaluations: number;
  /** Single stripes evaluated (N:M kept magnitude of M columns over all rows). */
  readonly stripeEvaluations: number;
  /** Improving moves applied (stripe-group redistributions or channel swaps). */
  readonly moves: number;
  /** Bounded regressions taken. */
  readonly regressions: number;
  /** Escape attempts made. */
  readonly escapes: number;
  /** Escape attempts that found a better permutation. */
  readonly escapesImproved: number;
  /** Wall time of the search in milliseconds. */
  readonly elapsedMs: number;
}

/** Result of {@link channelPermutation}. */
export interface ChannelPermutationResult {
  /** The permutation of input channels: new column j = old column perm[j]. */
  readonly perm: Int32Array;
  /** Magnitude the N:M mask keeps without permutation (the default N:M mask). */
  readonly keptBefore: number;
  /** Magnitude the N:M mask keeps after permuting. Never below {@link keptBefore}. */
  readonly keptAfter: number;
  /** Magnitude unstructured pruning keeps at the same sparsity (the upper bound). */
  readonly unstructuredKept: number;
  /** (keptAfter − keptBefore) / (unstructuredKept − keptBefore), Pool & Yu's efficacy. */
  readonly efficacy: number;
  /** Work counters. */
  readonly stats: PermutationStats;
}

/**
 * Channel permutation search for N:M sparsity (Pool & Yu, "Channel Permutations for N:M
 * Sparsity", NeurIPS 2021): a permutation of W's input channels after which the N:M mask keeps
 * as much magnitude Σ|w| as possible.
 *
 * The default strategy is the paper's stripe-group optimization: for every group of G stripes
 * (G = 2: 8-column groups for 2:4), the best way to distribute its G·M columns among its
 * stripes is found exhaustively, and sweeps over all groups apply each group's best
 * redistribution when it improves the kept magnitude, until a sweep finds nothing. Once stuck,
 * a bounded number of regressions (the least harmful non-improving moves, within a bound) lets
 * the search leave a shallow local optimum. Then the escape phase perturbs the best permutation
 * by random channel swaps and searches again from there, keeping the best permutation found.
 *
 * Cost: a 2:4 stripe group is 70 subsets × rows top-2-of-4 evaluations and a sweep has
 * C(cols/4, 2) groups, so the work grows with rows·cols²; 4:8 groups (16 columns, 12870
 * subsets) cost about 200× more per group. `maxSweeps` and `escapeAttempts` bound the effort.
 *
 * W is [rows = out, cols = in] with cols a multiple of M. Deterministic for a given seed.
 *
 * @throws {RangeError} for an invalid pattern, cols not a multiple of M, or non-finite weights.
 * @throws {CancelledError} when `isCancelled` returns true.
 */
export function channelPermutation(W: WeightMatrix, N: number, M: number, options: ChannelPermutationOptions = {}): ChannelPermutationResult {
  const start = performance.now();
  checkPattern(N, M);
  checkWeight(W);
  const { rows, cols, data } = W;
  if (cols % M !== 0) throw new RangeError(`${cols} input channels are not a whole number of ${M}-column stripes`);
  const strategy = options.strategy ?? 'stripeGroups';
  const G = options.stripesPerGroup ?? 2;
  if (!Number.isInteger(G) || G < 2) throw new RangeError(`a stripe group needs at least 2 stripes, got ${G}`);
  const maxRegressions = options.maxRegressions ?? 8;
  const regressionBound = options.regressionBound ?? 0.02;
  const escapeAttempts = options.escapeAttempts ?? 4;
  const swapsPerEscape = options.swapsPerEscape ?? 2;
  const maxSweeps = options.maxSweeps ?? Infinity;
  const random = seededRandom(options.seed ?? 1);

  // |W| column by column, once: every evaluation reads whole columns.
  const A = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) A[c * rows + r] = Math.abs(data[r * cols + c]);

  const partitions = stripeGroupPartitions(strategy === 'stripeGroups' ? G : 1, M);
  const state = new StripeSearchState(A, rows, cols, N, M, partitions, options.isCancelled);
  const keptBefore = state.total;
  const stripes = state.stripes;
  // Gains below this are rounding noise (equal columns swapped), not progress.
  const tolerance = 1e-12 * Math.max(keptBefore, 1e-300);

  let moves = 0, regressions = 0, escapes = 0, escapesImproved = 0;
  let regressionsLeft = maxRegressions;
  const best = Int32Array.from(state.perm);
  let bestKept = state.total;
  const noteBest = (): void => {
    if (state.total > bestKept + tolerance) {
      bestKept = state.total;
      best.set(state.perm);
    }
  };

  /**
   * Stripe-group optimization with bounded regressions, to a local optimum: sweeps over the
   * stripe groups, applying each group's best redistribution as soon as it improves the total.
   * Only groups whose stripes changed since their last evaluation are evaluated again.
   */
  const stripeGroupSearch = (): void => {
    const bound = stripes > 0 ? (regressionBound * state.total) / stripes : 0;
    let tabu = -1;
    for (let sweep = 0; sweep < maxSweeps; sweep++) {
      let improved = false;
      let r = -1, loss = -bound;
      for (let g = 0; g < state.groupCount; g++) {
        if (state.isStale(g)) {
          if ((state.groupEvaluations & 63) === 0) state.checkCancelled();
          state.evaluateGroup(g);
        }
        if (g === tabu) continue;
        if (state.gain[g] > tolerance) {
          state.applyPartition(g, state.bestPartition[g]);
          moves++;
          improved = true;
          noteBest();
        } else if (state.regressionGain[g] >= loss) {
          loss = state.regressionGain[g];
          r = g;
        }
      }
      if (improved) {
        tabu = -1;
        continue;
      }
      // Stuck: every group is current and none improves. A bounded regression takes the least
      // harmful move that changes something, unless it costs more than the bound; the group is
      // then tabu for one sweep, so that the next sweep does not simply undo it.
      if (regressionsLeft === 0 || r < 0) return;
      state.applyPartition(r, state.regressionPartition[r]);
      regressions++;
      regressionsLeft--;
      tabu = r;
    }
  };

  /** Channel swaps: first-improvement sweeps over column pairs of different stripes. */
  const channelSwapSearch = (): void => {
    for (let sweep = 0, improved = true; improved && sweep < maxSweeps; sweep++) {
      improved = false;
      for (let i = 0; i < cols; i++) {
        const si = Math.floor(i / M);
        if ((i & 15) === 0) state.checkCancelled();
        for (let j = (si + 1) * M; j < cols; j++) {
          const sj = Math.floor(j / M);
          const before = state.keptOf(si) + state.keptOf(sj);
          const after = state.keptWith(si, i, state.perm[j]) + state.keptWith(sj, j, state.perm[i]);
          if (after - before > tolerance) {
            state.swapColumns(i, j);
            state.stripesChanged([si, sj]);
            moves++;
            improved = true;
            noteBest();
          }
        }
      }
    }
  };

  const localSearch = strategy === 'stripeGroups' ? stripeGroupSearch : channelSwapSearch;
  localSearch();
  if (state.total < bestKept) state.restore(best);
  options.onProgress?.({ escapesDone: 0, escapesTotal: escapeAttempts, bestKept });

  // Escape from local minima: perturb the best permutation by channel swaps across stripes and
  // search again; keep the result only when it beats the best.
  if (stripes >= 2) {
    for (let attempt = 0; attempt < escapeAttempts; attempt++) {
      state.checkCancelled();
      const touched: number[] = [];
      for (let q = 0; q < swapsPerEscape; q++) {
        const i = Math.floor(random() * cols);
        let j = Math.floor(random() * (cols - M));
        // Draw j from the columns outside i's stripe.
        if (j >= Math.floor(i / M) * M) j += M;
        state.swapColumns(i, j);
        touched.push(Math.floor(i / M), Math.floor(j / M));
      }
      state.stripesChanged(touched);
      const before = bestKept;
      localSearch();
      escapes++;
      if (bestKept > before) escapesImproved++;
      state.restore(best);
      options.onProgress?.({ escapesDone: attempt + 1, escapesTotal: escapeAttempts, bestKept });
    }
  }

  const perm = Int32Array.from(best);
  const keptAfter = nmKeptMagnitude(W, N, M, perm);
  const defaultKept = nmKeptMagnitude(W, N, M);
  const unstructuredKept = unstructuredKeptMagnitude(data, N, M);
  return {
    perm,
    keptBefore: defaultKept,
    keptAfter,
    unstructuredKept,
    efficacy: permutationEfficacy(keptAfter, defaultKept, unstructuredKept),
    stats: {
      groupEvaluations: state.groupEvaluations,
      stripeEvaluations: state.stripeEvaluations,
      moves,
      regressions,
      escapes,
      escapesImproved,
      elapsedMs: performance.now() - start,
    },
  };
}
