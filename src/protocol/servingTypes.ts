/**
 * The serving-memory vocabulary: a decoder's architecture as read from any source, and the
 * memory plan built from it (weights per precision, KV cache, activations, what fits a budget).
 * Shared by the engine, the CLI's JSON and the editor's Serving section.
 */

/** How an architecture field got its value. */
export interface FieldOrigin {
  /** `read`: stated by the file; `inferred`: derived from tensor shapes or the graph; `default`: assumed when absent. */
  readonly origin: 'read' | 'inferred' | 'default';
  /** The key, tensor or rule it came from (`num_key_value_heads`, `model.embed_tokens.weight shape`). */
  readonly from: string;
}

/** Routed experts of a mixture-of-experts decoder. */
export interface MoeSettings {
  /** Routed experts per MoE layer. */
  readonly experts: number;
  /** Routed experts each token passes through. */
  readonly expertsPerToken: number;
  /** Experts every token passes through besides the routed ones (DeepSeek, Qwen2-MoE). */
  readonly sharedExperts: number;
  /** Width of one routed expert's MLP. */
  readonly expertIntermediateSize: number;
  /** Width of one shared expert's MLP. */
  readonly sharedIntermediateSize: number;
  /** How many of the layers are MoE layers; the others have a dense MLP of `intermediateSize`. */
  readonly moeLayers: number;
}

/** Multi-head latent attention (DeepSeek-V2/V3): the cache holds one compressed latent per token and layer. */
export interface LatentAttention {
  readonly kvLoraRank: number;
  /** Absent when queries are projected directly. */
  readonly qLoraRank: number | undefined;
  readonly qkNopeHeadDim: number;
  readonly qkRopeHeadDim: number;
  readonly vHeadDim: number;
}

/** A decoder's architecture, whatever file it was read from. */
export interface ModelArchitecture {
  /** What it was read from. */
  readonly source: 'config' | 'gguf' | 'onnx';
  /** The file that described it (`config.json`, the `.gguf`, the `.onnx`). */
  readonly file: string;
  /** `model_type`, GGUF `general.architecture`, or `onnx` when the graph does not say. */
  readonly modelType: string;
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Width of a dense MLP (for Mixtral: of each expert). */
  readonly intermediateSize: number;
  readonly numHeads: number;
  /** Equal to numHeads for multi-head attention, 1 for multi-query, between for grouped-query. */
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** Longest context the model was trained for; undefined when the source does not say. */
  readonly contextLength: number | undefined;
  readonly ropeTheta: number | undefined;
  /** The rope scaling's type and factor (`yarn ×4`), undefined for none. */
  readonly ropeScaling: string | undefined;
  /** Sliding attention window in tokens, when some layers use one. */
  readonly slidingWindow: number | undefined;
  /** How many layers attend within {@link slidingWindow} only (0 without a window). */
  readonly slidingLayers: number;
  readonly tieWordEmbeddings: boolean;
  /** SwiGLU-style MLP with gate, up and down projections (else up and down only). */
  readonly gatedMlp: boolean;
  /** LayerNorm with a bias (2 vectors per norm) rather than RMSNorm (1). */
  readonly layerNorm: boolean;
  /** Biases on the q/k/v projections. */
  readonly qkvBias: boolean;
  /** Biases on every linear layer (GPT-2 style). */
  readonly linearBias: boolean;
  readonly moe: MoeSettings | undefined;
  readonly latentAttention: LatentAttention | undefined;
  /** Where each field came from, by field name. */
  readonly fields: Readonly<Record<string, FieldOrigin>>;
  /** Parameters counted from the weights, when weights were read (else undefined). */
  readonly countedParameters: number | undefined;
  /** Things the reader assumed or could not read, for the user. */
  readonly notes: readonly string[];
}

/** Precisions the planner prices weights at. */
export const WEIGHT_PRECISIONS = ['float32', 'float16', 'int8', 'int4'] as const;
/** One of {@link WEIGHT_PRECISIONS}. */
export type WeightPrecision = (typeof WEIGHT_PRECISIONS)[number];
/** Element types of the KV cache. */
export const KV_PRECISIONS = ['fp16', 'fp8', 'int8'] as const;
/** One of {@link KV_PRECISIONS}. */
export type KvPrecision = (typeof KV_PRECISIONS)[number];

/** A group of weight matrices (or vectors) of one role. */
export interface WeightGroup {
  /** `embedding`, `attention`, `mlp`, `router`, `experts`, `shared-experts`, `norms`, `head`. */
  readonly role: string;
  /** Parameters of the whole group. */
  readonly parameters: number;
  /** Parameters one token passes through (routed experts: only the chosen ones). */
  readonly activeParameters: number;
  /** The matrices as [rows (outputs), columns (inputs), how many]; empty for vectors. */
  readonly matrices: readonly (readonly [number, number, number])[];
  /** Linear weights that quantization schemes convert (embeddings, norms and routers stay in float16). */
  readonly quantized: boolean;
}

/** Weights at one precision. */
export interface WeightCost {
  readonly precision: WeightPrecision;
  readonly bytes: number;
  /** Of which quantization scales and zero points. */
  readonly scaleBytes: number;
  /** Bytes per parameter over the whole model. */
  readonly bitsPerWeight: number;
  /** How the scheme is stored, in words. */
  readonly scheme: string;
}

/** The KV cache at one element type. */
export interface KvCost {
  readonly precision: KvPrecision;
  /** Bytes one token adds over all layers (window layers included, until the window is full). */
  readonly bytesPerToken: number;
  /** Of which scales and zero points. */
  readonly scaleBytesPerToken: number;
  /** Bytes one sequence of the plan's context length holds. */
  readonly bytesPerSequence: number;
}

/** The user's choices. */
export interface MemorySettings {
  /** Memory available to the model, in bytes. */
  readonly budgetBytes: number;
  readonly weights: WeightPrecision;
  readonly kv: KvPrecision;
  /** Tokens per KV block of a paged allocator (vLLM: 16); 1 for exact allocation. */
  readonly blockSize: number;
  /** Context length of one sequence (default: the model's). */
  readonly contextLength: number;
  /** Tokens of one prefill step, for the activation estimate. */
  readonly prefillTokens: number;
  /** Group size of the INT4 scheme. */
  readonly int4GroupSize: number;
}

/** The activation estimate of one prefill step. */
export interface ActivationEstimate {
  readonly prefillTokens: number;
  /** With fused (flash) attention: no tokens × tokens score matrix. */
  readonly flashBytes: number;
  /** With eager attention, which holds the heads × tokens × tokens scores and probabilities. */
  readonly eagerBytes: number;
  /** How the figure is made, in words. */
  readonly method: string;
}

/** How many sequences of one context length fit. */
export interface FitRow {
  readonly contextLength: number;
  readonly kvBytesPerSequence: number;
  /** Bytes lost to partly filled blocks per sequence. */
  readonly pagingWasteBytes: number;
  /** 0 when not even one sequence fits. */
  readonly maxBatch: number;
}

/** One line of the chart: memory against context length. */
export interface MemoryCurve {
  readonly weights: WeightPrecision;
  readonly kv: KvPrecision;
  readonly batch: number;
  /** Bytes at each of {@link MemoryPlan.curveContexts}. */
  readonly bytes: readonly number[];
}

/** Everything the Serving section and `quantscope memory` show. */
export interface MemoryPlan {
  readonly architecture: ModelArchitecture;
  readonly settings: MemorySettings;
  readonly parameters: { readonly total: number; readonly active: number; readonly embedding: number };
  readonly groups: readonly WeightGroup[];
  readonly weights: readonly WeightCost[];
  readonly kv: readonly KvCost[];
  readonly activations: ActivationEstimate;
  /** Weights + activations at the chosen precisions: what is left for the KV cache is the budget minus this. */
  readonly fixedBytes: number;
  /** The largest batch at each context length. */
  readonly fits: readonly FitRow[];
  /** The longest context one sequence can have within the budget (capped at the model's context length), 0 if none. */
  readonly maxContextAtBatch1: number;
  readonly curveContexts: readonly number[];
  readonly curves: readonly MemoryCurve[];
  readonly warnings: readonly string[];
  /** The routed experts compared, when asked for and the model has weights. */
  readonly experts?: ExpertReport;
}

/** Parameters of the worker's `planMemory`: the model (or its config.json) and the settings that differ from the defaults. */
export interface PlanMemoryParams {
  readonly path: string;
  readonly settings?: Partial<MemorySettings>;
  /** Also compare the routed experts (reads their weights). */
  readonly experts?: boolean;
}

/** Statistics of one expert's weights (all its matrices flattened together). */
export interface ExpertStats {
  readonly expert: number;
  readonly parameters: number;
  /** Frobenius norm. */
  readonly norm: number;
  readonly absmax: number;
  readonly mean: number;
  readonly std: number;
}

/** The routed experts of one MoE layer and how alike they are. */
export interface ExpertLayer {
  readonly layer: number;
  readonly experts: number;
  /** The matrices each expert has (`w1`, `gate_proj`, `ffn_up_exps`). */
  readonly roles: readonly string[];
  readonly stats: readonly ExpertStats[];
  /** Cosine similarity of each pair of experts' flattened weights. */
  readonly cosine: readonly (readonly number[])[];
  /** Relative error of replacing both experts of a pair by their mean: ‖Wᵢ − Wⱼ‖² / (2 (‖Wᵢ‖² + ‖Wⱼ‖²)). */
  readonly mergeError: readonly (readonly number[])[];
  /** The pair with the highest cosine. */
  readonly closest: { readonly a: number; readonly b: number; readonly cosine: number } | undefined;
}

/** The mixture-of-experts structure found in a checkpoint's tensors. */
export interface ExpertReport {
  readonly path: string;
  /** How the experts were found (`experts.N. tensors`, `ffn_*_exps stacks`). */
  readonly detectedBy: string;
  readonly layers: readonly ExpertLayer[];
  /** Shared-expert tensors found (DeepSeek, Qwen2-MoE). */
  readonly sharedExpertTensors: number;
  readonly expertParameters: number;
  readonly notes: readonly string[];
}
