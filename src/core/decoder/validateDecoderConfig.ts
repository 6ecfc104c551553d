import type { FormatError } from '../FormatError';
import type { DecoderConfig } from './DecoderConfig';

/**
 * Checks the relations between a config's sizes that every reader relies on: heads split evenly
 * into KV groups, a head width the rotary embedding can halve, scaling factors in range.
 */
export function validateDecoderConfig(c: DecoderConfig, fail: (message: string) => FormatError): DecoderConfig {
  if (c.numKvHeads > c.numHeads || c.numHeads % c.numKvHeads !== 0) {
    throw fail(`${c.numHeads} attention heads cannot be shared evenly by ${c.numKvHeads} key/value heads`);
  }
  if (c.headDim % 2 !== 0) throw fail(`head_dim ${c.headDim} is odd; rotary embeddings rotate pairs of channels`);
  if (c.slidingWindow !== undefined && !(Number.isSafeInteger(c.slidingWindow) && c.slidingWindow > 0)) {
    throw fail(`sliding_window must be a positive integer, not ${c.slidingWindow}`);
  }
  const s = c.ropeScaling;
  if (s?.type === 'llama3' && !(s.highFreqFactor > s.lowFreqFactor)) {
    throw fail(`rope_scaling high_freq_factor (${s.highFreqFactor}) must exceed low_freq_factor (${s.lowFreqFactor})`);
  }
  if (s?.type === 'factors' && s.factors.length !== c.headDim / 2) {
    throw fail(`rope frequency factors hold ${s.factors.length} values; head_dim ${c.headDim} needs ${c.headDim / 2}`);
  }
  return c;
}
