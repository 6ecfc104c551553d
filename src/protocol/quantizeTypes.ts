/**
 * The JSON-able parameters and report of a quantization job: what the CLI prints with `--json`
 * and what crosses the worker's JSON-RPC boundary.
 */
import type { RewriteRecord, SkippedRewrite } from '../core/onnx/rewrite/RewriteRecord';

/** Quantization algorithms. */
export type QuantizeMethod = 'rtn' | 'gptq';
/** Output forms: weight-only DequantizeLinear, 4-bit MatMulNBits, or dynamic W8A8. */
export type QuantizeFormat = 'qdq' | 'nbits' | 'dynamic';

/** Where calibration (and held-out validation) inputs come from. */
export interface QuantizeCalibration {
  /** Calibration samples (rows of the first axis) in all; default 8. */
  readonly samples?: number;
  /** Samples per batch; default 1. */
  readonly batch?: number;
  /** Symbolic axes other than the batch (sequence length, image width); default 128. */
  readonly sequenceLength?: number;
  /** A calibration file or folder (`.npy`, `.npz`, ONNX `.pb` sets); generated inputs when absent. */
  readonly file?: string;
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
  /** Things that make the figures less trustworthy (synthetic data, a singular H). */
  readonly warnings: readonly string[];
}
