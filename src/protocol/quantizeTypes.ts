/**
 * The JSON-able parameters and report of a quantization job: what the CLI prints with `--json`
 * and what crosses the worker's JSON-RPC boundary.
 */
import type { RewriteRecord, SkippedRewrite } from '../core/onnx/rewrite/RewriteRecord';
import type { MixedPrecisionPlan, PlanChoice, PlanLayer } from '../core/quant/mixedPrecisionPlan';

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

/** Where calibration (and held-out validation) inputs come from. */
export interface QuantizeCalibration {
  /** Calibration samples (rows of the first axis) in all; default 8. */
  readonly samples?: number;
  /** Samples per batch; default 1. */
  readonly batch?: number;
  /** Symbolic axes other than the batch (sequence length, image width); default 128. */
  readonly sequenceLength?: number;
  /** A calibration file or folder (`.npy`, `.npz`, ONNX `.pb` sets, or `.txt` with {@link tokenizer}); generated inputs when absent. */
  readonly file?: string;
  /** The model's `tokenizer.json`, which a `.txt` calibration file is tokenized with. */
  readonly tokenizer?: string;
}

/** Parameters of {@link quantizeModel}. */
export interface QuantizeParams {
  /** The source `.onnx` model; it is never modified. */
  readonly path: string;
  /** The output path; default the next free `model.<suffix>.onnx` beside the source. */
  readonly output?: string;
  /** Replace an existing `output`. Off by default. */
  readonly overwrite?: boolean;
  readonly method: QuantizeMethod;
  readonly bits: 8 | 4 | 3;
  /** Weights per scale along the input axis; per-output-channel scales when absent. */
  readonly group?: number;
  /** Signed codes with zero point 0 (default true); false for unsigned codes with zero points. */
  readonly symmetric?: boolean;
  readonly format: QuantizeFormat;
  /** Layers (node names, or weight tensor names) to quantize; default every MatMul/Gemm weight. */
  readonly layers?: readonly string[];
  readonly calibration?: QuantizeCalibration;
  /** GPTQ: quantize columns in order of decreasing diag H (act-order, with static groups). Default false. */
  readonly actOrder?: boolean;
  /** GPTQ: damping as a fraction of mean(diag H). Default 0.01. */
  readonly damping?: number;
  /** Held-out batches for the validation; default 2. */
  readonly validationBatches?: number;
  /** Largest total size of the Hessians held at once (bytes); layers are calibrated in groups that fit. Default 2 GiB. */
  readonly hessianBudgetBytes?: number;
  /** SmoothQuant: migration strength α in s_j = max|X_j|^α / max|W_j|^(1−α). Default 0.5. */
  readonly alpha?: number;
  /** LLM.int8(): input channels whose activation absmax reaches this stay in float. Default 6. */
  readonly threshold?: number;
  /** SmoothQuant, LLM.int8() and plans: how the weights are rounded. Default RTN. */
  readonly weights?: WeightRounding;
  /** Plan: the budget the planner meets (when `plan` is absent). */
  readonly budget?: PlanBudgetParams;
  /** Plan: the precision of each layer, as planned and perhaps edited; layers not named stay float. */
  readonly plan?: Readonly<Record<string, PlanChoice>>;
}

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

/** How far one model output moved. */
export interface OutputMetrics {
  readonly name: string;
  readonly elements: number;
  /** ‖y' − y‖ / ‖y‖. */
  readonly relativeL2: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  /** Mean KL(p ‖ p') over rows of the last axis; null when the output does not look like class scores. */
  readonly kl: number | null;
  /** Fraction of rows whose argmax agrees; null when the output does not look like class scores. */
  readonly top1Agreement: number | null;
  /** Whether the rows were taken as probabilities as they are or through a softmax. */
  readonly klOver: 'probabilities' | 'logits' | null;
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
/** The held-out validation of a transformed model against its source, shared by the quantize and prune reports. */
export interface TransformValidation {
  readonly batches: number;
  /** True when the held-out inputs were generated. */
  readonly synthetic: boolean;
  readonly outputs: readonly OutputMetrics[];
}

export interface QuantizeReport {
  readonly source: string;
  readonly output: string;
  readonly method: QuantizeMethod;
  readonly format: QuantizeFormat;
  readonly bits: number;
  readonly group: number | null;
  readonly symmetric: boolean;
  /** True when calibration used generated inputs. */
  readonly synthetic: boolean;
  /** Calibration batches run (0 when no calibration was needed). */
  readonly calibrationBatches: number;
  readonly layers: readonly LayerReport[];
  readonly skipped: readonly SkippedRewrite[];
  readonly validation: TransformValidation;
  readonly sizes: {
    readonly sourceBytes: number;
    readonly outputBytes: number;
    /** Weights in the quantized layers. */
    readonly quantizedWeights: number;
    /** Bytes those weights took in float and take now. */
    readonly floatWeightBytes: number;
    readonly quantizedWeightBytes: number;
    /** Stored bits per weight of the quantized layers (scales and zero points included). */
    readonly bitsPerWeight: number;
  };
  readonly seconds: {
    readonly calibration: number;
    readonly quantization: number;
    readonly write: number;
    readonly validation: number;
    readonly total: number;
  };
  readonly runtimeVersion: string;
  /** How weights were rounded under SmoothQuant, LLM.int8() and plans. */
  readonly weightRounding: WeightRounding;
  /** SmoothQuant: one entry per smoothed activation. */
  readonly smoothing?: readonly SmoothingReport[];
  /** LLM.int8(): the outlier threshold. */
  readonly threshold?: number;
  /** Plans: the plan applied. */
  readonly plan?: AppliedPlan;
  /** Things that make the figures less trustworthy (synthetic data, a singular H). */
  readonly warnings: readonly string[];
}
