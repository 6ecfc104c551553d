/**
 * The architecture of a Llama-family decoder, whatever file it was read from (a Hugging Face
 * `config.json`, Meta's `params.json`, or GGUF `llama.*` metadata). Every field is validated when
 * read, so the graph builder can trust it.
 */

/** The `model_type` values the builder accepts. */
export const DECODER_FAMILIES = ['llama', 'mistral', 'qwen2'] as const;
/** One of {@link DECODER_FAMILIES}. */
export type DecoderFamily = (typeof DECODER_FAMILIES)[number];

/** How rotary frequencies are rescaled for longer contexts. */
export type RopeScaling =
  /** Every frequency divided by `factor` (position interpolation). */
  | { readonly type: 'linear'; readonly factor: number }
  /** Llama 3.1: long wavelengths divided by `factor`, short ones kept, the band between blended. */
  | {
    readonly type: 'llama3';
    readonly factor: number;
    readonly lowFreqFactor: number;
    readonly highFreqFactor: number;
    readonly originalMaxPositionEmbeddings: number;
  }
  /** One divisor per frequency, as llama.cpp stores Llama 3 scaling (the `rope_freqs` tensor). */
  | { readonly type: 'factors'; readonly factors: readonly number[] };

/** A validated decoder architecture. */
export interface DecoderConfig {
  readonly modelType: DecoderFamily;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** Equal to {@link numHeads} for multi-head attention, 1 for multi-query, between for grouped-query. */
  readonly numKvHeads: number;
  /** Per-head width; `hiddenSize / numHeads` unless the config says otherwise. */
  readonly headDim: number;
  readonly vocabSize: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | undefined;
  readonly tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (Qwen2, or Llama with `attention_bias`). */
  readonly attentionBias: boolean;
  /** Keys further back than this many positions are masked (Mistral's sliding window). */
  readonly slidingWindow: number | undefined;
  readonly maxPositionEmbeddings: number;
}
