/**
 * The JSON-able parameters and report of a quantization job: what the CLI prints with `--json`
 * and what crosses the worker's JSON-RPC boundary.
 */
import type { MixedPrecisionPlan, PlanChoice, PlanLayer } from './planTypes';
import type { RewriteRecord, SkippedRewrite } from './rewriteTypes';
import type { ExclusiveUnion, QuantizeCalibration, TransformReportBase, TransformSeconds, TransformSizes, TransformSource } from './transformTypes';

export type { OutputMetrics, QuantizeCalibration, TransformValidation } from './transformTypes';

/**
 * Quantization methods: RTN and GPTQ round the weights; SmoothQuant migrates activation outliers
 * into the weights first (then W8A8); LLM.int8() keeps outlier input channels in float and
 * quantizes the rest; `plan` gives each layer its own precision from the sensitivity table.
 */
export type QuantizeMethod = 'rtn' | 'gptq' | 'smoothquant' | 'llmint8' | 'plan';
/** The methods that round weights (SmoothQuant, LLM.int8() and plans use one of them underneath). */
export type WeightRounding = 'rtn' | 'gptq';
/**
 * Output forms: weight-only DequantizeLinear, 4-bit MatMulNBits, dynamic W8A8
 * (DynamicQuantizeMatMul), or static W8A8 (QuantizeLinear/DequantizeLinear on the activations
 * with scales from calibration).
 */
export type QuantizeFormat = 'qdq' | 'nbits' | 'dynamic' | 'static';

/** A mixed-precision budget: an average of stored bits per weight, or a summed layer error. */
export type PlanBudgetParams = { readonly kind: 'bits'; readonly bitsPerWeight: number } | { readonly kind: 'error'; readonly maxError: number };

/** The weight-quantizing fields every quantize method has; bits and format are filled from the method's defaults at the edge. */
interface WeightQuantParams extends TransformSource {
  readonly bits: 8 | 4 | 3;
  readonly format: QuantizeFormat;
  /** Weights per scale along the input axis; per-output-channel scales when absent (MatMulNBits defaults to 128). */
  readonly group?: number;
  /** Signed codes with zero point 0 (default true); false for unsigned codes with zero points. */
  readonly symmetric?: boolean;
  /** MatMulNBits' `accuracy_level` (nbits format only): 4 lets ONNX Runtime compute in int8. Unset by default. */
  readonly accuracyLevel?: number;
}

/** Round to nearest. */
export interface RtnParams extends WeightQuantParams {
  readonly method: 'rtn';
}

/** GPTQ: second-order error compensation with H from calibration. */
export interface GptqParams extends WeightQuantParams {
  readonly method: 'gptq';
  /** Quantize columns in order of decreasing diag H (act-order, with static groups). Default false. */
  readonly actOrder?: boolean;
  /** Damping as a fraction of mean(diag H). Default 0.01. */
  readonly damping?: number;
}

/** SmoothQuant, then W8A8. */
export interface SmoothQuantParams extends WeightQuantParams {
  readonly method: 'smoothquant';
  /** Migration strength α in s_j = max|X_j|^α / max|W_j|^(1−α). Default 0.5. */
  readonly alpha?: number;
  /** How the weights are rounded. Default RTN. */
  readonly weights?: WeightRounding;
}

/** LLM.int8() decomposition, the regular channels W8A8. */
export interface LlmInt8Params extends WeightQuantParams {
  readonly method: 'llmint8';
  /** Input channels whose activation absmax reaches this stay in float. Default 6. */
  readonly threshold?: number;
  /** How the weights are rounded. Default RTN. */
  readonly weights?: WeightRounding;
}

/** A mixed-precision plan: a precision per layer, planned under a budget or given (edited, from a recipe). */
export interface MixedPlanParams extends WeightQuantParams {
  readonly method: 'plan';
  /** How the weights are rounded. Default RTN. */
  readonly weights?: WeightRounding;
  /** The budget the planner meets (when `plan` is absent). */
  readonly budget?: PlanBudgetParams;
  /** The precision of each layer, as planned and perhaps edited; layers not named stay float. */
  readonly plan?: Readonly<Record<string, PlanChoice>>;
}

/** Parameters of the quantize job, one member per method; a field of another method reads as undefined. */
export type QuantizeParams = ExclusiveUnion<RtnParams | GptqParams | SmoothQuantParams | LlmInt8Params | MixedPlanParams>;

/** Parameters of `planQuantization`: calibrate, rank, and plan, without writing a model. */
export interface PlanParams {
  readonly path: string;
  readonly budget: PlanBudgetParams;
  readonly calibration?: QuantizeCalibration;
  readonly layers?: readonly string[];
  readonly hessianBudgetBytes?: number;
}

/** A plan with the table it was made from, so an editor can show every layer's options. */
export interface PlanResult {
  readonly plan: MixedPrecisionPlan;
  readonly layers: readonly PlanLayer[];
  readonly synthetic: boolean;
  readonly calibrationBatches: number;
  /** Layers left out of the plan (no Hessian, not rewritable), with the reason. */
  readonly skipped: readonly SkippedRewrite[];
  readonly seconds: number;
}

/** The precision each layer was given, and what the planner expected of it. */
export interface AppliedPlan {
  /** The budget planned for; null for a plan given as it is. */
  readonly budget: PlanBudgetParams | null;
  readonly choices: Readonly<Record<string, PlanChoice>>;
  /** Σ of the planned layer errors and the planned average bits per weight; null for a given plan. */
  readonly plannedError: number | null;
  readonly plannedBitsPerWeight: number | null;
  /** What the written model stores over the same layers (float ones at 32 bits), for comparison with the plan. */
  readonly storedBitsPerWeight?: number;
  readonly note: string | null;
}

/** What SmoothQuant did to one activation X and the layers reading it. */
export interface SmoothingReport {
  readonly activation: string;
  readonly layers: readonly string[];
  readonly alpha: number;
  /** The node whose constants absorbed diag(1/s), or null when a `Mul` node was inserted. */
  readonly foldedInto: { readonly node: string; readonly opType: string } | null;
  readonly mulNode: string | null;
  readonly minScale: number;
  readonly maxScale: number;
  /** max/median of the channel absmax before and after: SmoothQuant's difficulty. */
  readonly difficultyBefore: number | null;
  readonly difficultyAfter: number | null;
}

/** One quantized layer. */
export interface LayerReport extends RewriteRecord {
  /** Input width K of the layer (H is K × K). */
  readonly inFeatures: number;
  /** Output width N of the layer. */
  readonly outFeatures: number;
  /** tr(ΔW H ΔWᵀ) / tr(W H Wᵀ) with H from calibration; null without H or when tr(W H Wᵀ) = 0. */
  readonly relativeError: number | null;
  /**
   * Rows of X behind H; null without calibration. Fewer rows than inputs leave H singular, and
   * GPTQ's error measured on that same H is then optimistic.
   */
  readonly calibrationRows: number | null;
  /** For GPTQ: the same error of RTN at the same scheme, for comparison; otherwise null. */
  readonly rtnRelativeError: number | null;
  /** 10·log10(Σw² / Σ(w − ŵ)²); null when the weight is reproduced exactly. */
  readonly sqnrDb: number | null;
  /** Stored bits per weight including scales and zero points. */
  readonly bitsPerWeight: number;
  /** Plans: the precision this layer was given. */
  readonly choice?: PlanChoice;
}

/** What a quantization did and cost. */
export interface QuantizeReport extends TransformReportBase<LayerReport> {
  readonly method: QuantizeMethod;
  readonly format: QuantizeFormat;
  readonly bits: number;
  readonly group: number | null;
  readonly symmetric: boolean;
  readonly sizes: TransformSizes & {
    /** Weights in the quantized layers. */
    readonly quantizedWeights: number;
    /** Bytes those weights took in float and take now. */
    readonly floatWeightBytes: number;
    readonly quantizedWeightBytes: number;
    /** Stored bits per weight of the quantized layers (scales and zero points included). */
    readonly bitsPerWeight: number;
  };
  readonly seconds: TransformSeconds & { readonly quantization: number };
  /** How weights were rounded under SmoothQuant, LLM.int8() and plans. */
  readonly weightRounding: WeightRounding;
  /** SmoothQuant: one entry per smoothed activation. */
  readonly smoothing?: readonly SmoothingReport[];
  /** LLM.int8(): the outlier threshold. */
  readonly threshold?: number;
  /** Plans: the plan applied. */
  readonly plan?: AppliedPlan;
}
