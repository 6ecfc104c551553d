/**
 * Findings as data: what the engine concludes about one layer from its weight statistics and
 * calibration, with the figures behind it and the fix it recommends. The CLI prints them, the
 * extension turns them into diagnostics and code actions, the webviews show them as buttons.
 */

/** How much a finding matters: `error` breaks the model (NaN), `warning` costs accuracy, `info` is an opportunity. */
export type FindingSeverity = 'error' | 'warning' | 'info';

/** What a finding is about. */
export type FindingKind =
  | 'activation-outliers'
  | 'weight-outliers'
  | 'int4-error'
  | 'sensitive'
  | 'insensitive'
  | 'dead-channels'
  | 'non-finite'
  | 'denormals'
  | 'tied-embedding';

/**
 * The transform a finding recommends for its layer. Each maps onto one entry of the method table
 * (see core/findings/fixChoices), so applying it runs the same job as the QuickPick flow.
 */
export type FindingFix =
  /** SmoothQuant with this migration strength, then static W8A8. */
  | { readonly kind: 'smoothquant'; readonly alpha: number }
  /** LLM.int8() decomposition: input channels whose activation absmax reaches `threshold` stay float. */
  | { readonly kind: 'llmint8'; readonly threshold: number }
  /** INT8 with one scale per output channel (weight-only QDQ). */
  | { readonly kind: 'int8-channel' }
  /** INT4 in groups of 128 along the input axis, rounded by GPTQ, stored as MatMulNBits. */
  | { readonly kind: 'int4-g128' }
  /** 2:4 semi-structured magnitude pruning. */
  | { readonly kind: 'prune-2:4' }
  /** Leave the layer in float. */
  | { readonly kind: 'keep-float' };

/** A figure behind a finding: a number (null where it does not exist), a word, or channel indices. */
export type EvidenceValue = number | string | null | readonly number[];

/** One finding about one layer. */
export interface Finding {
  /** Stable within a model: `kind:layer`. */
  readonly id: string;
  readonly kind: FindingKind;
  readonly severity: FindingSeverity;
  /** The layer as the model spells it: the MatMul/Gemm node's name for ONNX layers, otherwise the tensor's name. */
  readonly layer: string;
  /** The weight tensor the finding is about, when there is one. */
  readonly tensor?: string;
  /** One sentence that names its numbers. */
  readonly message: string;
  /** The numbers, by name (each also appears in the message). */
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
  /** The recommended transform, or null when the remedy is outside the tool (repair the checkpoint). */
  readonly fix: FindingFix | null;
  /** Other fixes that also answer the finding, second choice first. */
  readonly alternatives: readonly FindingFix[];
  /** The recommendation in words. */
  readonly advice: string;
}

/**
 * The thresholds findings are judged by. Each is a setting (`quantscope.findings.<name>`) and a
 * CLI option of `advise`; the defaults are in core/findings/findingThresholds.
 */
export interface FindingThresholds {
  /** LLM.int8()'s criterion: an activation channel whose absmax reaches this is an outlier (6). */
  readonly activationMagnitude: number;
  /** Scale-free criterion: an activation channel above this multiple of the median channel absmax is an outlier (20). */
  readonly activationFactor: number;
  /** LLM.int8() is recommended over SmoothQuant when outliers are at most this fraction of the channels (0.02). */
  readonly llmInt8MaxFraction: number;
  /** A weight whose input- or output-channel absmax max/median exceeds this has outlier channels (20). */
  readonly weightFactor: number;
  /** A weight whose Pearson kurtosis exceeds this is heavy-tailed (10; a normal distribution has 3). */
  readonly kurtosis: number;
  /** INT4 g128 costs too much above this relative output error tr(ΔW H ΔWᵀ)/tr(W H Wᵀ) (0.05). */
  readonly int4MaxError: number;
  /** Without calibration: INT4 g128 costs too much below this weight SQNR in dB (13). */
  readonly int4MinSqnrDb: number;
  /** The k most sensitive layers by INT4 g128 relative error are kept at higher precision (3). */
  readonly sensitiveTopK: number;
  /** A layer is insensitive when its INT4 g128 relative error is at most this (0.005). */
  readonly insensitiveMaxError: number;
  /** An insensitive layer is offered 2:4 pruning when that costs at most this relative error (0.02). */
  readonly pruneMaxError: number;
  /** A channel is dead or near zero when its absmax is at most this fraction of the median channel's (1e-4). */
  readonly deadFraction: number;
}

/** What the findings were derived from, and the findings. */
export interface FindingsReport {
  readonly path: string;
  /** True when a calibration (activations and sensitivity) was available. */
  readonly calibrated: boolean;
  /** True when that calibration ran on generated inputs. */
  readonly synthetic: boolean;
  readonly thresholds: FindingThresholds;
  /** Most severe first, then by layer in model order. */
  readonly findings: readonly Finding[];
}
