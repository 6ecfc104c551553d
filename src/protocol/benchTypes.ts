/**
 * Parameters and results of the benchmark job. Everything here is plain JSON, so a report can
 * cross the worker boundary, be saved to disk and be reopened later.
 */
import type { OutputMetrics } from './quantizeTypes';

/** Graph optimization levels of ONNX Runtime. */
export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Parameters of the benchmark job. */
export interface BenchParams {
  /** One or more `.onnx` models; with several they are run interleaved and compared to the first. */
  readonly models: readonly string[];
  /** Intra-op threads; 0 or absent lets ONNX Runtime decide. */
  readonly threads?: number;
  /** The batch axis when it is symbolic. Default 1. */
  readonly batch?: number;
  /** Other symbolic axes. Default 128. */
  readonly sequenceLength?: number;
  /** Sizes of named symbolic dimensions; they win over batch and sequence length. */
  readonly dims?: Readonly<Record<string, number>>;
  /** Untimed runs per model before measuring. Default 3. */
  readonly warmup?: number;
  /** Timed runs per model. Default 20. */
  readonly runs?: number;
  /** Stop measuring after this long (all models together), keeping the rounds done so far. */
  readonly timeBudgetMs?: number;
  /** Default `all`, as a deployment would run. */
  readonly optimizationLevel?: OptimizationLevel;
  /** A separate profiling pass for per-operator times. Default true. */
  readonly profile?: boolean;
  /** Inputs from a file or folder (`.npy`, `.npz`, `.pb`) instead of generated ones; the first batch is used. */
  readonly inputsFile?: string;
  /**
   * Generation mode for decoders with a KV cache: `runs` are then whole generations per model
   * (default 3) after `warmup` untimed ones (default 1), and the report carries {@link BenchReport.generation}.
   */
  readonly generate?: GenerationParams;
}

/** What a generation benchmark runs: a prompt, then greedy decoding with the cache fed back. */
export interface GenerationParams {
  /** Prompt length P in tokens when the prompt is generated (ids from the vocabulary). Default 32. */
  readonly promptTokens?: number;
  /** Decode steps N after the prefill, each feeding one token through the cache. Default 32. */
  readonly newTokens?: number;
  /** A text prompt, tokenized with {@link tokenizer}; it replaces the generated ids. */
  readonly prompt?: string;
  /** The `tokenizer.json` for {@link prompt}. */
  readonly tokenizer?: string;
}

/** The shape of a decoder's KV cache, read from its graph inputs. */
export interface DecoderGeometry {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** Bytes of one cached element (4 for float32, 2 for float16). */
  readonly kvElementBytes: number;
}

/** The generation results for one model. */
export interface ModelGeneration {
  readonly path: string;
  readonly decoder: DecoderGeometry;
  /** Prefill (time to first token) of each timed round, in ms. */
  readonly prefillSamples: readonly number[];
  readonly prefillMs: LatencyStats;
  /** Median per-token decode latency at each decode step (across rounds), in ms: the per-token chart. */
  readonly tokenMs: readonly number[];
  /** Decode tokens per second at the median per-token latency. */
  readonly decodeTokensPerSec: number;
  /** The greedy tokens: the prefill's, then one per decode step (N + 1); the same in every round. */
  readonly tokens: readonly number[];
  /** Bytes of the cache the last step returned, as measured on its tensors. */
  readonly kvCacheBytes: number;
  /** 2 · layers · kvHeads · headDim · element bytes · (P + N) · batch: what {@link kvCacheBytes} must equal. */
  readonly kvCacheBytesComputed: number;
  /** Weight bytes one decode step reads: initializers of the matrix products in full, one row of each embedding Gather. */
  readonly weightBytesPerToken: number;
  /** The distinct `accuracy_level` attributes of MatMulNBits nodes (0 when unset); empty without MatMulNBits. */
  readonly nbitsAccuracyLevels: readonly number[];
}

/** Model b against model a in generation mode. */
export interface GenerationComparison {
  readonly a: string;
  readonly b: string;
  /** median prefill(a) / median prefill(b): above 1 means b is faster. */
  readonly prefillRatio: number;
  /** p10 and p90 of the per-round prefill ratios. */
  readonly prefillSpread: readonly [number, number];
  /** median per-token decode(a) / median per-token decode(b). */
  readonly decodeRatio: number;
  /** p10 and p90 of the per-round ratios of mean per-token decode latency. */
  readonly decodeSpread: readonly [number, number];
  /** Whether both generated the same greedy tokens. */
  readonly tokensAgree: boolean;
  /** Index into {@link ModelGeneration.tokens} of the first differing token, or null when they agree. */
  readonly firstDivergence: number | null;
}

/** What a generation benchmark measured, beside the per-token decode latencies in {@link BenchReport.models}. */
export interface GenerationReport {
  readonly promptTokens: number;
  readonly newTokens: number;
  readonly promptFrom: 'generated' | 'text';
  /** The prompt's token ids. */
  readonly prompt: readonly number[];
  readonly models: readonly ModelGeneration[];
  readonly comparisons: readonly GenerationComparison[];
}

/** The CPU features that decide which integer kernels ONNX Runtime can use. */
export interface CpuFeatures {
  readonly model: string;
  readonly cores: number;
  /** False when the OS gave no feature flags (not Linux); the flags below are then unknown. */
  readonly known: boolean;
  readonly avx2: boolean;
  readonly avx512f: boolean;
  /** AVX-512 VNNI (int8 dot products in 512-bit registers). */
  readonly avx512vnni: boolean;
  /** AVX-VNNI (the same dot products in 256-bit registers). */
  readonly avxVnni: boolean;
  /** AMX tiles with int8 support. */
  readonly amxInt8: boolean;
  readonly f16c: boolean;
  readonly fma: boolean;
}

/** Latency statistics in milliseconds. */
export interface LatencyStats {
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Time of one operator type summed over the profiled runs, per run. */
export interface OpTime {
  readonly opType: string;
  /** Milliseconds per run. */
  readonly ms: number;
  /** Fraction of the summed node time. */
  readonly share: number;
  /** How many nodes of this type ran. */
  readonly nodes: number;
}

/** The results for one model. */
export interface ModelBench {
  readonly path: string;
  readonly fileSize: number;
  /** Stored bits per weight over MatMul/Gemm/MatMulNBits/DynamicQuantizeMatMul weights, scales included; null without such weights. */
  readonly bitsPerWeight: number | null;
  /** Operator types in the stored graph with their node counts (before ONNX Runtime's fusions). */
  readonly graphOps: Readonly<Record<string, number>>;
  readonly sessionCreateMs: number;
  readonly latencyMs: LatencyStats;
  /** Timed run latencies in ms, in the order they were taken. */
  readonly samples: readonly number[];
  /** Samples per second at the median latency: the first input's leading axis (the batch) × 1000 / p50. */
  readonly throughputPerSec: number;
  /** Coefficient of variation of the samples (standard deviation / mean). */
  readonly cv: number;
  /** The worker's peak resident memory after this model's runs; per process, so it includes earlier models. */
  readonly peakRssBytes: number;
  /** Per-operator times from the profiling pass, longest first; empty without profiling. */
  readonly opTimes: readonly OpTime[];
  /** Share of node time in QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear. */
  readonly quantDequantShare: number;
  /** Execution providers and kernel names the profile recorded, when it did. */
  readonly kernels?: readonly string[];
}

/** Model b against model a (paths as given). */
export interface BenchComparison {
  readonly a: string;
  readonly b: string;
  /** median(a) / median(b): above 1 means b is faster. */
  readonly ratioOfMedians: number;
  /** p10 and p90 of the per-round ratios a/b of the interleaved runs. */
  readonly spread: readonly [number, number];
  /** Output agreement of b against a on the same inputs (two models only). */
  readonly agreement?: readonly OutputMetrics[];
}

/** What a benchmark measured and concluded. */
export interface BenchReport {
  readonly cpu: CpuFeatures;
  readonly models: readonly ModelBench[];
  readonly comparisons: readonly BenchComparison[];
  /** Plain-language conclusions, each naming the operators and CPU features it rests on. */
  readonly verdicts: readonly string[];
  /**
   * Present in generation mode. {@link models} then describe the decode step (latencies are per
   * decoded token, the profile is of decode steps) and {@link comparisons} compare decode speed.
   */
  readonly generation?: GenerationReport;
  readonly settings: {
    readonly threads: number;
    readonly warmup: number;
    readonly runs: number;
    /** Timed rounds actually completed (fewer than runs when the time budget ran out). */
    readonly rounds: number;
    readonly optimizationLevel: OptimizationLevel;
    readonly profile: boolean;
    readonly inputs: Readonly<Record<string, readonly number[]>>;
    readonly inputsFrom: 'generated' | 'file';
    readonly runtime: string;
    readonly timeBudgetMs: number | null;
  };
}
