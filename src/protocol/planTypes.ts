// Mixed-precision plans as data: what the planner produces, what recipes and reports carry.

/** A precision the planner can give a layer: keep float32, or one of the symmetric RTN/GPTQ schemes. */
export type PlanChoice = 'float' | 'int8-channel' | 'int4-g128' | 'int4-channel';

/** The quantized precisions, whose errors come from the sensitivity table (float has error 0). */
export type QuantPlanChoice = Exclude<PlanChoice, 'float'>;

/** One layer to plan: its shape and the relative error of each available quantized precision. */
export interface PlanLayer {
  /** Layer name, unique within a plan (for example an ONNX MatMul node name). */
  readonly layer: string;
  /** Input width of W [out, in] (the axis groups run along). */
  readonly inFeatures: number;
  /** Output width of W [out, in]. */
  readonly outFeatures: number;
  /** Relative error per candidate; a missing entry means the candidate is unavailable for this layer. */
  readonly errors: Partial<Record<QuantPlanChoice, number>>;
  /**
   * Total stored bits per candidate where the writer stores other than {@link choiceBits} counts
   * (a kernel that pads rows to whole blocks); the plan budgets what will be on disk.
   */
  readonly storedBits?: Partial<Record<QuantPlanChoice, number>>;
}

/** What the plan must meet. */
export type PlanBudget =
  /** Average stored bits per weight over the planned layers ≤ `bitsPerWeight`; minimise summed error. */
  | { readonly kind: 'bits'; readonly bitsPerWeight: number }
  /** Summed relative error ≤ `maxError`; minimise stored size. */
  | { readonly kind: 'error'; readonly maxError: number };

/** One layer of a plan. */
export interface PlannedLayer {
  /** Layer name. */
  readonly layer: string;
  /** The precision chosen. */
  readonly choice: PlanChoice;
  /** Input width. */
  readonly inFeatures: number;
  /** Output width. */
  readonly outFeatures: number;
  /** Stored bits per weight of this layer at `choice`. */
  readonly bitsPerWeight: number;
  /** Total stored bits of this layer at `choice` (codes + float32 scales). */
  readonly bits: number;
  /** Relative error of `choice` (0 for float). */
  readonly error: number;
}

/** The totals of an assignment of precisions to layers. */
export interface PlanTotals {
  /** One entry per input layer, in input order. */
  readonly layers: readonly PlannedLayer[];
  /** Σ layer errors. */
  readonly totalError: number;
  /** Σ layer stored bits. */
  readonly totalBits: number;
  /** Σ in·out over the layers. */
  readonly weights: number;
  /** totalBits / weights (0 when there are no weights). */
  readonly bitsPerWeight: number;
  /** Stored bits of the same layers kept in float32 (32 per weight), the size the plan saves against. */
  readonly floatBits: number;
}

/** What is guaranteed about a plan. */
export type PlanOptimality =
  /** Optimal for the exact integer sizes. */
  | { readonly kind: 'exact'; readonly unitBits: number }
  /**
   * Optimal when each layer's size above its smallest choice is rounded up to `unitBits`: the budget
   * is never exceeded, and the error is at most the exact optimum under a budget `slackBits`
   * (= layers·unitBits) smaller; for an error budget the size is at most the exact minimum + slackBits.
   */
  | { readonly kind: 'rounded'; readonly unitBits: number; readonly slackBits: number }
  /**
   * Greedy over convex hulls: for a bits budget the error is at most the optimum + `gap` (an error);
   * for an error budget the size is at most the minimum + `gap` (bits).
   */
  | { readonly kind: 'greedy'; readonly gap: number; readonly gapUnit: 'error' | 'bits' };

/** A mixed-precision plan: one choice per layer, its totals, and what is known about its optimality. */
export interface MixedPrecisionPlan extends PlanTotals {
  /** The budget planned for. */
  readonly budget: PlanBudget;
  /**
   * False when no plan meets the budget: then the plan is the smallest one (bits budget) or the
   * least-error one (error budget), and `note` says so.
   */
  readonly feasible: boolean;
  /** Dynamic programming over the knapsack, or the greedy convex-hull heuristic. */
  readonly method: 'dp' | 'greedy';
  /** The guarantee, in data form. */
  readonly optimality: PlanOptimality;
  /** One or two sentences for the user: the method, the optimality bound, infeasibility. */
  readonly note: string;
}
