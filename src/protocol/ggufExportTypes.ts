/** The `exportGguf` job on the wire: a language-model checkpoint written as GGUF for llama.cpp. */
import type { DecoderGraphInfo } from './exportTypes';
import type { QuantizeCalibration } from './transformTypes';

/** Parameters of `exportGguf`. */
export interface GgufExportParams {
  /** A Hugging Face folder (or its `config.json`, `model.safetensors`, index) or a `.gguf`; never modified. */
  readonly path: string;
  /** A preset (`q4_k_m`, `q5_k_m`, `q3_k_m`, `q8_0`) or one ggml type (`q4_k`, `q6_k`, …). */
  readonly target: string;
  /** Where to write; default beside the source (`NAME.q4_k_m.gguf`, numbered when taken). Never an existing file. */
  readonly output?: string;
  /**
   * Calibration for an importance matrix (mean x_j² of every projection's input, from running
   * the built decoder graph): given, the k-quants and the 32-value types minimize the importance-weighted
   * error as llama.cpp does with an imatrix. Absent: round to nearest. `{}` calibrates on
   * generated token ids.
   */
  readonly calibration?: QuantizeCalibration;
}

/** One tensor written. */
export interface GgufTensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly from: string;
  readonly type: string;
  /** The type the preset wanted, when the row length forced a fallback to {@link type}. */
  readonly wanted?: string;
  /** With importance: the weighted relative error Σ imp_j ΔW² / Σ imp_j W² of the blocks written, and of round-to-nearest. */
  readonly importance?: { readonly weightedError: number; readonly rtnWeightedError: number };
  readonly bytes: number;
}

/** What `exportGguf` wrote and checked. */
export interface GgufExportReport {
  readonly source: string;
  readonly output: string;
  /** The preset or type, upper-case (`Q4_K_M`). */
  readonly target: string;
  readonly architecture: string;
  readonly tensors: readonly GgufTensorEntry[];
  readonly fileBytes: number;
  readonly elements: number;
  readonly bitsPerWeight: number;
  readonly warnings: readonly string[];
  /** Set when an importance matrix was measured. */
  readonly calibration?: {
    readonly batches: number;
    /** True when the calibration ran on generated token ids rather than a file. */
    readonly synthetic: boolean;
    /** Weights that got an importance vector. */
    readonly layers: number;
    readonly seconds: number;
    readonly decoder?: DecoderGraphInfo;
  };
  readonly seconds: number;
}
