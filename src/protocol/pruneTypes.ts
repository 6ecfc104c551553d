/**
 * The JSON-able parameters and report of a pruning job: what the CLI prints with `--json` and
 * what crosses the worker's JSON-RPC boundary.
 */
import type { ExclusiveUnion, TransformReportBase, TransformSeconds, TransformSizes, TransformSource } from './transformTypes';

/** Pruning algorithms: unstructured magnitude, N:M magnitude, or SparseGPT (unstructured or N:M). */
export type PruneMethod = 'magnitude' | 'nm' | 'sparsegpt';

/** An N:M pattern along the input axis: N weights kept in every M consecutive inputs. */
export interface NMPattern {
  readonly n: number;
  readonly m: number;
}

/** Unstructured magnitude pruning, per layer or with one global threshold. */
export interface MagnitudeParams extends TransformSource {
  readonly method: 'magnitude';
  /** Target sparsity (fraction pruned); default 0.5. */
  readonly sparsity?: number;
  /** One threshold over all the chosen layers instead of one per layer. */
  readonly global?: boolean;
}

/** The N:M fields: a pattern, and the channel permutation that helps it. */
interface PatternFields {
  /** Search a permutation of each layer's input channels that keeps more magnitude. */
  readonly permute?: boolean;
  /**
   * With `permute`: apply the permutations but keep every weight. The model must compute the
   * same function as the source; this checks the permutation plumbing on its own.
   */
  readonly permuteOnly?: boolean;
}

/** N:M magnitude pruning. */
export interface NmParams extends TransformSource, PatternFields {
  readonly method: 'nm';
  readonly pattern: NMPattern;
}

/** SparseGPT: unstructured at a sparsity, or semi-structured with a pattern. */
export interface SparseGptParams extends TransformSource, PatternFields {
  readonly method: 'sparsegpt';
  /** Unstructured target sparsity; default 0.5. */
  readonly sparsity?: number;
  readonly pattern?: NMPattern;
}

/** Parameters of the prune job, one member per method; a field of another method reads as undefined. */
export type PruneParams = ExclusiveUnion<MagnitudeParams | NmParams | SparseGptParams>;

/** How a layer's input permutation was made function-preserving. */
export type PermutationApplication = 'producer' | 'gather' | 'none';

/** One pruned layer. */
export interface PruneLayerReport {
  readonly layer: string;
  readonly weight: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Fraction of the layer's weights that are zero after pruning. */
  readonly sparsity: number;
  /** tr(ΔW H ΔWᵀ) / tr(W H Wᵀ) with H from calibration; null without H or when tr(W H Wᵀ) = 0. */
  readonly relativeError: number | null;
  /** For SparseGPT: the same error of magnitude pruning with the same mask shape, for comparison; otherwise null. */
  readonly magnitudeRelativeError: number | null;
  /** Rows of X behind H; null without calibration. */
  readonly calibrationRows: number | null;
  /** With `permute`: the search's outcome and how it was applied. */
  readonly permutation?: {
    /** Pool & Yu's efficacy: (kept − default N:M kept) / (unstructured kept − default N:M kept). */
    readonly efficacy: number;
    /** Magnitude the N:M mask keeps without and with the permutation. */
    readonly keptBefore: number;
    readonly keptAfter: number;
    /** `producer`: the producing MatMul/Gemm's output channels were permuted; `gather`: a Gather was inserted; `none`: not applied. */
    readonly applied: PermutationApplication;
    /** Why no exact producer carried it (with `gather`), or why it was not applied at all (with `none`). */
    readonly reason?: string;
  };
}

/** What a pruning did and cost. */
export interface PruneReport extends TransformReportBase<PruneLayerReport> {
  readonly method: PruneMethod;
  /** The N:M pattern as `n:m`, or null for unstructured pruning. */
  readonly pattern: string | null;
  /** Unstructured target sparsity, or null for N:M. */
  readonly targetSparsity: number | null;
  readonly global: boolean;
  /** True when at least one layer's permutation was applied. */
  readonly permuted: boolean;
  readonly sizes: TransformSizes & {
    /** Zeros in the pruned layers' weights, and their weights in all. */
    readonly zeros: number;
    readonly weights: number;
    /** The output if the pruned weights were stored as a bitmask plus their nonzero float32 values. */
    readonly compressedEstimateBytes: number;
  };
  /** What pruning does to latency here, stated plainly. */
  readonly latencyNote: string;
  readonly seconds: TransformSeconds & { readonly pruning: number };
}
