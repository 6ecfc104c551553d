/**
 * What every model transform (quantize, prune) shares on the wire: where the model and its
 * calibration data come from, the held-out validation, and the report fields common to both.
 */
import type { DecoderGraphInfo } from './exportTypes';
import type { SkippedRewrite } from './rewriteTypes';

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

/** The parameters every transform takes besides its method's own. */
export interface TransformSource {
  /** The source `.onnx` model, or a language-model checkpoint (built into a graph first); it is never modified. */
  readonly path: string;
  /** The output path; default the next free `model.<suffix>.onnx` beside the source. */
  readonly output?: string;
  /** Replace an existing `output`. Off by default. */
  readonly overwrite?: boolean;
  /** Layers (node names, or weight tensor names) to transform; default every MatMul/Gemm weight. */
  readonly layers?: readonly string[];
  /** Calibration inputs: needed by the methods that use H or activation ranges; otherwise they only add layer errors. */
  readonly calibration?: QuantizeCalibration;
  /** Held-out batches for the validation; default 2. */
  readonly validationBatches?: number;
  /** Largest total size of the Hessians held at once (bytes); layers are calibrated in groups that fit. Default 2 GiB. */
  readonly hessianBudgetBytes?: number;
}

/** Every key of any member of a union. */
type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/**
 * A discriminated union whose members also declare the other members' fields as absent, so a
 * field can be read from the union without narrowing first (it is undefined where it does not apply).
 */
export type ExclusiveUnion<T, All = T> = T extends unknown ? T & { readonly [K in Exclude<KeysOfUnion<All>, keyof T>]?: never } : never;

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

/** The held-out validation of a transformed model against its source, shared by the quantize and prune reports. */
export interface TransformValidation {
  readonly batches: number;
  /** True when the held-out inputs were generated. */
  readonly synthetic: boolean;
  readonly outputs: readonly OutputMetrics[];
}

/** The times every transform measures; each report adds the time of its own kernel. */
export interface TransformSeconds {
  readonly calibration: number;
  readonly write: number;
  readonly validation: number;
  readonly total: number;
}

/** The sizes every transform measures. */
export interface TransformSizes {
  readonly sourceBytes: number;
  /** The written model and its external data. */
  readonly outputBytes: number;
}

/** The fields of every transform's report. */
export interface TransformReportBase<L> {
  readonly source: string;
  readonly output: string;
  /** True when calibration used generated inputs. */
  readonly synthetic: boolean;
  /** Calibration batches run (0 when no calibration was needed). */
  readonly calibrationBatches: number;
  readonly layers: readonly L[];
  readonly skipped: readonly SkippedRewrite[];
  readonly validation: TransformValidation;
  readonly runtimeVersion: string;
  /** Things that make the figures less trustworthy (synthetic data, a singular H). */
  readonly warnings: readonly string[];
  /** For a language-model checkpoint: the graph built from it that the transform ran on. */
  readonly decoderGraph?: DecoderGraphInfo;
}
