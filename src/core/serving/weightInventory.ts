import type { ModelArchitecture, WeightGroup } from '../../protocol/servingTypes';

type Matrix = readonly [rows: number, cols: number, count: number];

function group(role: string, matrices: readonly Matrix[], vectors: number, quantized: boolean, activeShare = 1): WeightGroup {
  const inMatrices = matrices.reduce((s, [r, c, n]) => s + r * c * n, 0);
  const parameters = inMatrices + vectors;
  return { role, parameters, activeParameters: Math.round(parameters * activeShare), matrices: matrices.filter(([, , n]) => n > 0), quantized };
}

/** An MLP of width `width`: gate, up and down projections (up and down without a gate). */
function mlp(a: ModelArchitecture, width: number, count: number): Matrix[] {
  const up: Matrix = [width, a.hiddenSize, count];
  const down: Matrix = [a.hiddenSize, width, count];
  return a.gatedMlp ? [up, up, down] : [up, down];
}

/** The attention projections of every layer, standard or latent (DeepSeek's MLA). */
function attention(a: ModelArchitecture): { matrices: Matrix[]; vectors: number } {
  const L = a.numLayers;
  const H = a.hiddenSize;
  const m = a.latentAttention;
  if (m) {
    const qk = m.qkNopeHeadDim + m.qkRopeHeadDim;
    const q: Matrix[] = m.qLoraRank === undefined ? [[a.numHeads * qk, H, L]] : [[m.qLoraRank, H, L], [a.numHeads * qk, m.qLoraRank, L]];
    return {
      matrices: [...q, [m.kvLoraRank + m.qkRopeHeadDim, H, L], [a.numHeads * (m.qkNopeHeadDim + m.vHeadDim), m.kvLoraRank, L], [H, a.numHeads * m.vHeadDim, L]],
      // The norms of the compressed query and latent.
      vectors: L * (m.kvLoraRank + (m.qLoraRank ?? 0)),
    };
  }
  const q = a.numHeads * a.headDim;
  const kv = a.numKvHeads * a.headDim;
  const biases = (a.qkvBias || a.linearBias ? q + 2 * kv : 0) + (a.linearBias ? H : 0);
  return { matrices: [[q, H, L], [kv, H, L], [kv, H, L], [H, q, L]], vectors: L * biases };
}

/**
 * Every weight of the decoder by role, counted from its architecture: embedding, attention, dense
 * MLPs, routers, routed and shared experts, norms, and the output head unless tied. Active
 * parameters are what one token passes through: all but the routed experts it is not sent to.
 */
export function weightInventory(a: ModelArchitecture): WeightGroup[] {
  const H = a.hiddenSize;
  const L = a.numLayers;
  const moe = a.moe;
  const moeLayers = moe?.moeLayers ?? 0;
  const denseLayers = L - moeLayers;
  const att = attention(a);
  const normSize = a.layerNorm ? 2 * H : H;
  const groups: WeightGroup[] = [
    group('embedding', [[a.vocabSize, H, 1]], 0, false),
    group('attention', att.matrices, att.vectors, true),
    group('mlp', mlp(a, a.intermediateSize, denseLayers), a.linearBias ? denseLayers * (a.intermediateSize + H) : 0, true),
  ];
  if (moe) {
    // Qwen2-MoE scales its shared expert by a sigmoid gate of one row.
    const sharedGate = moe.sharedExperts > 0 && a.fields['sharedIntermediateSize']?.from === 'shared_expert_intermediate_size';
    groups.push(group('router', [[moe.experts, H, moeLayers], [1, H, sharedGate ? moeLayers : 0]], 0, false));
    groups.push(group('experts', mlp(a, moe.expertIntermediateSize, moe.experts * moeLayers), 0, true, moe.expertsPerToken / moe.experts));
    if (moe.sharedExperts > 0) groups.push(group('shared-experts', mlp(a, moe.sharedIntermediateSize, moe.sharedExperts * moeLayers), 0, true));
  }
  groups.push(group('norms', [], (2 * L + 1) * normSize, false));
  if (!a.tieWordEmbeddings) groups.push(group('head', [[a.vocabSize, H, 1]], 0, true));
  return groups;
}
