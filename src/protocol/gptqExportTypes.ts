/** The `exportGptq` job on the wire: a Hugging Face checkpoint quantized into GPTQ-layout safetensors. */
import type { DecoderGraphInfo } from './exportTypes';
import type { QuantizeCalibration } from './transformTypes';

/** Parameters of `exportGptq`. */
export interface GptqExportParams {
  /** A Hugging Face folder (or its `config.json`, `model.safetensors` or index) with safetensors weights. */
  readonly path: string;
  /** The output folder; default `<folder>-gptq-<bits>bit-g<group>` beside the source, numbered when taken. Never an existing one. */
  readonly output?: string;
  /** 4 or 8; default 4. */
  readonly bits?: 4 | 8;
  /** Input channels per scale: 32, 64, 128 (default) …, or −1 for one scale per output channel. */
  readonly groupSize?: number;
  /** Symmetric codes (zero point 2^(bits−1)); default true, as AutoGPTQ's default. */
  readonly symmetric?: boolean;
  /** Quantize columns by decreasing Hessian diagonal (`desc_act`), with static groups; default false. */
  readonly actOrder?: boolean;
  /** GPTQ's damping as a fraction of mean(diag H); default 0.01. */
  readonly damping?: number;
  /** `gptq` (default): Hessians from calibrating the built decoder graph; `rtn`: round to nearest, no calibration. */
  readonly rounding?: 'gptq' | 'rtn';
  /** Calibration inputs for `gptq`; generated token ids when absent. */
  readonly calibration?: QuantizeCalibration;
  /** Largest shard; default 4 GiB. */
  readonly maxShardBytes?: number;
}

/** One projection written in the GPTQ layout. */
export interface GptqLayerReport {
  /** The module prefix (`model.layers.0.self_attn.q_proj`). */
  readonly module: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** `gptq`, or `rtn` when asked for or when calibration gave this layer no Hessian. */
  readonly rounding: 'gptq' | 'rtn';
  /** tr(ΔW H ΔWᵀ) / tr(W H Wᵀ) with the written (float16-scale) weights, when a Hessian was measured. */
  readonly relativeError?: number;
}

/** What `exportGptq` wrote. */
export interface GptqExportReport {
  readonly source: string;
  /** The folder written. */
  readonly output: string;
  /** Files in it. */
  readonly files: readonly string[];
  readonly bits: 4 | 8;
  readonly groupSize: number;
  readonly symmetric: boolean;
  readonly actOrder: boolean;
  readonly rounding: 'gptq' | 'rtn';
  readonly layers: readonly GptqLayerReport[];
  /** Tensors copied unchanged (embeddings, norms, the output head, biases). */
  readonly copiedTensors: number;
  /** Bytes of the source's weights and of the written safetensors. */
  readonly sourceBytes: number;
  readonly outputBytes: number;
  /** Calibration batches run (0 for rtn). */
  readonly calibrationBatches: number;
  /** True when calibration used generated inputs rather than a file. */
  readonly calibrationSynthetic: boolean;
  /** The built graph the Hessians came from (gptq only). */
  readonly decoder?: DecoderGraphInfo;
  readonly seconds: { readonly calibrateAndQuantize: number; readonly write: number; readonly total: number };
}
