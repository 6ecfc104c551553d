import type { KvPrecision, ModelArchitecture } from '../../protocol/servingTypes';

/** The KV cache of one token in one layer, at one element type. */
export interface KvPerLayer {
  /** Bytes of the cached values. */
  readonly values: number;
  /** Bytes of their scales and zero points. */
  readonly scales: number;
}

/** Bytes per cached element. */
export const KV_ELEMENT_BYTES: Readonly<Record<KvPrecision, number>> = { fp16: 2, fp8: 1, int8: 1 };

/**
 * One token's cache in one layer: a key and a value vector per KV head (2 × KV heads × head
 * width elements), or for latent attention one compressed latent plus its rotary key. fp8 caches
 * use one scale per tensor, which costs nothing per token; the int8 cache keeps a float16 scale
 * and zero point per token and head for keys and for values (per latent with MLA).
 */
export function kvPerLayer(a: ModelArchitecture, precision: KvPrecision): KvPerLayer {
  const m = a.latentAttention;
  const elements = m ? m.kvLoraRank + m.qkRopeHeadDim : 2 * a.numKvHeads * a.headDim;
  const vectors = m ? 1 : 2 * a.numKvHeads;
  return { values: elements * KV_ELEMENT_BYTES[precision], scales: precision === 'int8' ? vectors * 4 : 0 };
}

/** Tokens a block allocator holds for `tokens`: rounded up to whole blocks. */
export function blockTokens(tokens: number, blockSize: number): number {
  return Math.ceil(tokens / blockSize) * blockSize;
}

/**
 * Bytes one sequence of `tokens` holds in the cache: full-attention layers keep every token,
 * sliding-window layers at most the window (a rolling buffer, as Mistral's reference code keeps).
 * `blockSize` rounds each layer's tokens up to whole blocks, as a paged allocator does.
 */
export function kvSequenceBytes(a: ModelArchitecture, precision: KvPrecision, tokens: number, blockSize = 1): number {
  const perToken = kvPerLayer(a, precision);
  const per = perToken.values + perToken.scales;
  const full = a.numLayers - a.slidingLayers;
  const windowed = a.slidingLayers > 0 && a.slidingWindow !== undefined ? Math.min(tokens, a.slidingWindow) : 0;
  return per * (full * blockTokens(tokens, blockSize) + a.slidingLayers * blockTokens(windowed, blockSize));
}
