import { ConfigFields } from './ConfigFields';
import type { DecoderConfig } from './DecoderConfig';
import { validateDecoderConfig } from './validateDecoderConfig';

/** The feed-forward width Meta's reference code derives from `dim` (SwiGLU's 2/3 of 4·dim, rounded up). */
export function metaFeedForwardDim(dim: number, multipleOf: number, multiplier: number | undefined): number {
  let hidden = Math.floor((2 * 4 * dim) / 3);
  if (multiplier !== undefined) hidden = Math.floor(multiplier * hidden);
  return multipleOf * Math.ceil(hidden / multipleOf);
}

/**
 * Reads Meta's `params.json` (Llama 2 and 3 releases, llama2.c): `dim`, `n_layers`, `n_heads`,
 * `n_kv_heads`, `multiple_of`, `ffn_dim_multiplier`, `norm_eps`, `rope_theta`, `use_scaled_rope`.
 * `vocab_size` is -1 in some releases; then `embeddingRows` (the token embedding's row count) is used.
 */
export function readMetaParams(json: unknown, file: string, embeddingRows: number | undefined): DecoderConfig {
  const values = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  if (!values) throw new ConfigFields(file, {}).fail('is not a JSON object');
  const f = new ConfigFields(file, values);
  const dim = f.int('dim');
  const numHeads = f.int('n_heads');
  if (dim % numHeads !== 0) throw f.fail(`dim ${dim} is not a multiple of n_heads ${numHeads}`);
  const vocabRaw = f.raw('vocab_size');
  const vocabSize = vocabRaw === -1 || vocabRaw === undefined ? embeddingRows : f.int('vocab_size');
  if (vocabSize === undefined) throw f.fail('vocab_size is missing and there is no token embedding to count it from');
  const multiplier = f.has('ffn_dim_multiplier') ? f.positive('ffn_dim_multiplier') : undefined;
  const intermediateSize = f.has('hidden_dim') ? f.int('hidden_dim') : metaFeedForwardDim(dim, f.int('multiple_of', 256), multiplier);
  return validateDecoderConfig({
    modelType: 'llama',
    hiddenSize: dim,
    intermediateSize,
    numLayers: f.int('n_layers'),
    numHeads,
    numKvHeads: f.int('n_kv_heads', numHeads),
    headDim: dim / numHeads,
    vocabSize,
    rmsNormEps: f.positive('norm_eps', 1e-5),
    ropeTheta: f.positive('rope_theta', 10000),
    // Meta's Llama 3.1 code applies these fixed constants when use_scaled_rope is set.
    ropeScaling: f.bool('use_scaled_rope', false)
      ? { type: 'llama3', factor: f.positive('rope_scaling_factor', 8), lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 }
      : undefined,
    tieWordEmbeddings: false,
    attentionBias: false,
    slidingWindow: undefined,
    maxPositionEmbeddings: f.int('max_seq_len', 2048),
  }, (m) => f.fail(m));
}
