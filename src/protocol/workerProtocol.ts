/**
 * Messages between the extension (or the CLI) and the worker process. Type-only: both sides
 * import these to agree on the JSON-RPC method names, parameters and results.
 */
import type { ModelSummary } from './modelTypes';
import type { LayerSensitivity } from './sensitivityTypes';
import type { TensorStats } from './statsTypes';
import type { BenchParams, BenchReport } from './benchTypes';
import type { FindingsReport, FindingThresholds } from './findingTypes';
import type { ExportParams, ExportReport } from './exportTypes';
import type { GgufExportParams, GgufExportReport } from './ggufExportTypes';
import type { PruneParams, PruneReport } from './pruneTypes';
import type { PlanParams, PlanResult, QuantizeParams, QuantizeReport } from './quantizeTypes';
import type { MemoryPlan, PlanMemoryParams } from './servingTypes';

export type { DTypeShare, ModelListing, ModelSummary, NodeSummary, TensorSummary, ValueSummary } from './modelTypes';

/** Parameters of `inspect`. */
export interface InspectParams {
  readonly path: string;
}

/** What `ping` returns: enough to tell one worker process from the next. */
export interface PingResult {
  readonly pid: number;
  readonly node: string;
  readonly uptimeMs: number;
}

/** Parameters of `memoryUsage`. */
export interface MemoryUsageParams {
  /** Run a full garbage collection first, when the worker was started with `--expose-gc`. */
  readonly collect?: boolean;
}

/** What `memoryUsage` returns: the worker's own figures, in bytes. */
export interface WorkerMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** The JavaScript heap's limit (what `--max-old-space-size` set, plus the young generation). */
  readonly heapLimit: number;
  /** Memory outside the JavaScript heap: array buffers (tensor data) and native objects. */
  readonly external: number;
  readonly arrayBuffers: number;
  /** The cap the worker's jobs account their big buffers against, when one was given. */
  readonly jobLimit?: number;
  /** True when a garbage collection ran before the figures were taken. */
  readonly collected: boolean;
}

/** A progress report for a long request, tied to the request by `token`. */
export interface ProgressParams {
  readonly token: string;
  readonly message: string;
  /** 0..1, or undefined when the length of the work is unknown. */
  readonly fraction?: number;
}

/** Parameters of `profileWeights`. */
export interface ProfileWeightsParams {
  readonly path: string;
  /** Only these tensors (by name); all floating-point tensors when omitted. */
  readonly tensors?: readonly string[];
  /** Group size of the INT4 group schemes (default 128). */
  readonly groupSize?: number;
}

/** Statistics of one tensor, or why there are none. */
export interface TensorProfile {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The MatMul / Gemm layer that consumes this weight, for ONNX models. */
  readonly layer?: string;
  readonly stats?: TensorStats;
  /** Why statistics are missing (an undecoded GGML type, say). */
  readonly error?: string;
  /** True when the values are dequantized from a block format (GGUF). */
  readonly dequantized?: boolean;
}

/** Layers × input channels, log10 of the absmax, max-pooled. */
export interface HeatmapData {
  readonly layers: readonly string[];
  readonly members: readonly (readonly string[])[];
  readonly columns: number;
  readonly values: readonly number[];
  readonly maxChannels: number;
}

/** A tensor that an embedding lookup and a MatMul/Gemm both read: a tied embedding. */
export interface SharedWeight {
  readonly tensor: string;
  /** The Gather nodes that look rows up. */
  readonly lookups: readonly string[];
  /** The MatMul/Gemm nodes that multiply by it (directly or transposed). */
  readonly layers: readonly string[];
}

/** What `profileWeights` returns. */
export interface WeightProfile {
  readonly path: string;
  readonly format: string;
  readonly tensors: readonly TensorProfile[];
  /** Tensors left out because they are not floating point (shape constants, token ids). */
  readonly skipped: number;
  /** Weight input-channel absmax of every 2-D weight, for the Outliers view. */
  readonly heatmap: HeatmapData;
  /** Tied embeddings (ONNX graphs); absent in profiles cached before it was recorded. */
  readonly shared?: readonly SharedWeight[];
  readonly elapsedMs: number;
}

/** Parameters of `profileModel`: weights, activations from calibration, and sensitivity (ONNX). */
export interface ModelProfileParams {
  readonly path: string;
  /** `.npy`/`.npz`/`.pb` calibration files or folders, or one `.txt` (with `tokenizer`); generated inputs when absent. */
  readonly calibrationFiles?: readonly string[];
  /** A Hugging Face `tokenizer.json` that turns a `.txt` calibration file into token ids. */
  readonly tokenizer?: string;
  /** Calibration batches (default 8). */
  readonly samples?: number;
  readonly batchSize?: number;
  readonly sequenceLength?: number;
  readonly dims?: Readonly<Record<string, number>>;
  /** LLM.int8()'s outlier magnitude (default 6). */
  readonly threshold?: number;
  /** Largest total size of the d×d Float64 Hessians, in bytes (default 4 GiB). */
  readonly memoryBudgetBytes?: number;
  readonly threads?: number;
}

/** Activation statistics of one MatMul/Gemm layer from calibration, and its sensitivity. */
export interface LayerProfile {
  readonly layer: string;
  readonly opType: 'MatMul' | 'Gemm';
  readonly weight: string;
  readonly weightShape: readonly number[];
  readonly d: number;
  /** Max |X| per input channel over all calibration rows. */
  readonly absmax: readonly number[];
  /** Outlier channels: LLM.int8()'s (absmax ≥ threshold) and scale-free (absmax > 20 × median). */
  readonly outliers: { readonly int8: number; readonly scaleFree: number };
  /** SmoothQuant's difficulty: max / median channel absmax. */
  readonly difficulty: number | null;
  readonly rows: number;
  readonly traceOverD: number;
  readonly sensitivity?: LayerSensitivity;
  readonly sensitivityError?: string;
  /** Rank by INT4 g128 relative error, 1 = most sensitive. */
  readonly rank?: number;
}

/** What a calibration ran on. */
export interface CalibrationInfo {
  /** True when the inputs were generated: the activation statistics are synthetic. */
  readonly synthetic: boolean;
  readonly batches: number;
  readonly threshold: number;
  readonly scaleFreeFactor: number;
  readonly skipped: readonly { readonly layer: string; readonly reason: string }[];
  readonly hessianBytes: number;
  readonly seconds: number;
}

/** What `profileModel` returns. */
export interface ModelProfile {
  readonly path: string;
  readonly weights: WeightProfile;
  readonly calibration: CalibrationInfo;
  /** Layers, most sensitive first. */
  readonly layers: readonly LayerProfile[];
  readonly activationHeatmap: HeatmapData;
}

/** A layer that quantization can rewrite: a MatMul or Gemm with a constant 2-D float weight. */
export interface QuantizableLayer {
  readonly layer: string;
  readonly opType: 'MatMul' | 'Gemm';
  readonly weight: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
}

/**
 * Asks the worker to keep a profile it computes under `keepAs` (the extension's cache key), so
 * that a later `findings` request names it instead of sending the profile back across.
 */
export interface KeepParams {
  readonly keepAs?: string;
}

/** The kind of profile findings are derived from: weights alone, or a calibration's whole-model profile. */
export type ProfileKind = 'weights' | 'model';

/**
 * Where the worker finds the profile to judge. `kept`: one it keeps under `key` (computed by this
 * process, or read once from `cacheFile`, the extension's cache entry, after a restart). `inline`:
 * the profile itself, for when neither exists (the cache is off and the worker restarted).
 */
export type FindingsSource =
  | { readonly type: 'kept'; readonly kind: ProfileKind; readonly key: string; readonly cacheFile?: string }
  | { readonly type: 'inline'; readonly weights: WeightProfile; readonly model?: ModelProfile };

/** Parameters of `findings`. */
export interface FindingsParams {
  /** The model the profile is of; a kept profile of another path is refused. */
  readonly path: string;
  readonly source: FindingsSource;
  readonly thresholds?: Partial<FindingThresholds>;
}

/** What `findings` returns: the report, or why the profile named is not there (then send it inline). */
export type FindingsResult =
  | { readonly type: 'findings'; readonly report: FindingsReport }
  | { readonly type: 'missing'; readonly reason: string };

/** The requests the worker answers, by JSON-RPC method name. */
export interface WorkerRequests {
  readonly ping: { readonly params: Record<string, never>; readonly result: PingResult };
  /** The worker's memory figures, for the soak bench and memory tests. */
  readonly memoryUsage: { readonly params: MemoryUsageParams; readonly result: WorkerMemory };
  readonly inspect: { readonly params: InspectParams; readonly result: ModelSummary };
  /** The model as `quantscope-model` text, for the text view and the diff. */
  readonly modelText: { readonly params: InspectParams; readonly result: { readonly text: string } };
  readonly profileWeights: { readonly params: ProfileWeightsParams & KeepParams; readonly result: WeightProfile };
  /** Weights, activations from calibration through ONNX Runtime, and sensitivity (ONNX). */
  readonly calibrate: { readonly params: ModelProfileParams & KeepParams; readonly result: ModelProfile };
  /** The findings engine run on a profile, off the extension host: it stalls for 60–200 ms at 7B. */
  readonly findings: { readonly params: FindingsParams; readonly result: FindingsResult };
  readonly quantizableLayers: { readonly params: InspectParams; readonly result: readonly QuantizableLayer[] };
  readonly quantize: { readonly params: QuantizeParams; readonly result: QuantizeReport };
  /** A mixed-precision plan from calibration and sensitivity, to show and edit before quantizing. */
  readonly planQuantization: { readonly params: PlanParams; readonly result: PlanResult };
  readonly prune: { readonly params: PruneParams; readonly result: PruneReport };
  readonly benchmark: { readonly params: BenchParams; readonly result: BenchReport };
  /** Builds a language-model checkpoint into an ONNX decoder and saves it beside the checkpoint. */
  readonly exportDecoder: { readonly params: ExportParams; readonly result: ExportReport };
  /** Writes a checkpoint as GGUF for llama.cpp in a preset, importance-weighted when a calibration is given. */
  readonly exportGguf: { readonly params: GgufExportParams; readonly result: GgufExportReport };
  /** Serving memory: weights per precision, KV cache, what fits a budget. */
  readonly planMemory: { readonly params: PlanMemoryParams; readonly result: MemoryPlan };
}

/** A JSON-RPC method of the worker. */
export type WorkerMethod = keyof WorkerRequests;

/** Notifications the worker sends unprompted. */
export interface WorkerNotifications {
  readonly progress: ProgressParams;
  readonly log: { readonly level: 'info' | 'warn' | 'error'; readonly message: string };
  /**
   * A file the worker is about to create (`owned`), or no longer needs removing (not `owned`):
   * if the worker dies, its parent removes the files still owned, so a killed job leaves no
   * temporary file or unchecked output behind.
   */
  readonly ownedFile: { readonly path: string; readonly owned: boolean };
}

/**
 * Errors cross the process boundary as JSON-RPC errors; `data.kind` says whether the user's file
 * was at fault (`format`), the work was cancelled, or something failed inside the worker.
 */
export interface WorkerErrorData {
  readonly kind: 'format' | 'cancelled' | 'internal';
}

/** JSON-RPC error codes the worker uses. */
export const WorkerErrorCode = {
  format: -32001,
  cancelled: -32800,
  internal: -32603,
} as const;
