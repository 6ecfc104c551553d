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
