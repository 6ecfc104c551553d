import type { ActivationEstimate, ModelArchitecture } from '../../protocol/servingTypes';

const ACTIVATION_BYTES = 2;

/**
 * The transient memory of one prefill step of `tokens` tokens (batch 1), at float16:
 * the residual stream and its normalized copy, plus the larger of the attention phase (q, k, v
 * and the attention output; eager attention adds the heads × tokens × tokens scores and
 * probabilities) and the MLP phase (gate, up and their product; for MoE the chosen and shared
 * experts' widths and the router logits), plus the float32 logits of the last position. Layers run
 * one after another and free their intermediates, so one layer's peak is the model's.
 */
export function activationEstimate(a: ModelArchitecture, tokens: number): ActivationEstimate {
  const P = tokens;
  const H = a.hiddenSize;
  const m = a.latentAttention;
  const qkv = m
    ? a.numHeads * (2 * (m.qkNopeHeadDim + m.qkRopeHeadDim) + m.vHeadDim) + m.kvLoraRank + m.qkRopeHeadDim
    : (a.numHeads + 2 * a.numKvHeads) * a.headDim;
  const attnOut = a.numHeads * (m ? m.vHeadDim : a.headDim);
  const attention = P * (qkv + attnOut);
  const scores = 2 * a.numHeads * P * P;
  const mlpFactor = a.gatedMlp ? 3 : 2;
  const dense = a.moe && a.moe.moeLayers === a.numLayers ? 0 : mlpFactor * P * a.intermediateSize;
  const moe = a.moe ? mlpFactor * P * (a.moe.expertsPerToken * a.moe.expertIntermediateSize + a.moe.sharedExperts * a.moe.sharedIntermediateSize) + P * a.moe.experts : 0;
  const mlp = Math.max(dense, moe);
  const residual = 2 * P * H;
  const logits = a.vocabSize * 4;
  return {
    prefillTokens: P,
    flashBytes: ACTIVATION_BYTES * (residual + Math.max(attention, mlp)) + logits,
    eagerBytes: ACTIVATION_BYTES * (residual + Math.max(attention + scores, mlp)) + logits,
    method: 'one prefill step at float16: residual stream and its normalized copy, plus the larger of the attention phase (q, k, v, output; eager attention adds 2 × heads × tokens² scores) and the MLP phase (gate, up, product; MoE: chosen and shared experts and router logits), plus float32 logits of the last position',
  };
}
