import { basename } from 'node:path';
import type { ModelArchitecture, MoeSettings } from '../../protocol/servingTypes';
import type { Checkpoint } from '../formats/Checkpoint';
import { checkArchitecture } from './checkArchitecture';
import { familyDefaults } from './decoderFamilies';
import { FieldResolver, type Inference } from './FieldResolver';

function shapeOf(checkpoint: Checkpoint, name: string, dim: number, what: string): Inference | undefined {
  const t = checkpoint.tensors.find((x) => x.name === name);
  return t && t.shape.length > dim ? { value: t.shape[dim], from: `${name} shape [${t.shape.join(', ')}] (${what})` } : undefined;
}

/**
 * Reads a decoder's architecture from a GGUF file's `<arch>.*` metadata (llama.cpp's keys), for
 * any architecture that carries them; the vocabulary, layer count and expert shapes fall back to
 * the tensors (`token_embd`, `blk.N.`, `ffn_*_exps`).
 */
export function readGgufArchitecture(checkpoint: Checkpoint): ModelArchitecture {
  const file = basename(checkpoint.path);
  const md = checkpoint.metadata;
  const arch = md['general.architecture'];
  const bare = new FieldResolver(file, {}, 'gguf');
  if (typeof arch !== 'string') throw bare.fail('has no general.architecture, so its decoder keys cannot be found');
  const prefix = `${arch}.`;
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(md)) if (k.startsWith(prefix)) values[k.slice(prefix.length)] = v;
  const f = new FieldResolver(`${file} ${arch}.*`, values, 'gguf');
  let maxBlock = -1;
  for (const t of checkpoint.tensors) {
    const m = /^blk\.(\d+)\./.exec(t.name);
    if (m) maxBlock = Math.max(maxBlock, Number(m[1]));
  }
  const tokens = md['tokenizer.ggml.tokens'];
  const vocabHint = shapeOf(checkpoint, 'token_embd.weight', 0, 'token embedding rows') ?? (Array.isArray(tokens) ? { value: tokens.length, from: 'tokenizer.ggml.tokens count' } : undefined);
  const numLayers = f.int('numLayers', ['block_count'], maxBlock >= 0 ? { value: maxBlock + 1, from: 'blk.N tensor indices' } : undefined);
  const hiddenSize = f.int('hiddenSize', ['embedding_length']);
  const numHeads = f.int('numHeads', ['attention.head_count']);
  const headDim = f.int('headDim', ['attention.key_length'], undefined, hiddenSize % numHeads === 0 ? { value: hiddenSize / numHeads, why: 'embedding_length / attention.head_count' } : undefined);
  const numKvHeads = f.int('numKvHeads', ['attention.head_count_kv'], undefined, { value: numHeads, why: 'attention.head_count (multi-head attention)' });
  const vocabSize = f.int('vocabSize', ['vocab_size'], vocabHint);
  const experts = f.optionalInt('experts', ['expert_count'], shapeOf(checkpoint, 'blk.0.ffn_gate_exps.weight', 0, 'experts'));
  const intermediateSize = f.int('intermediateSize', ['feed_forward_length'], shapeOf(checkpoint, 'blk.0.ffn_up.weight', 0, 'MLP width'));
  let moe: MoeSettings | undefined;
  if (experts !== undefined && experts > 1) {
    const expertIntermediateSize = f.int('expertIntermediateSize', ['expert_feed_forward_length'], shapeOf(checkpoint, 'blk.0.ffn_up_exps.weight', 1, 'expert width') ?? shapeOf(checkpoint, `blk.${numLayers - 1}.ffn_up_exps.weight`, 1, 'expert width'), { value: intermediateSize, why: 'feed_forward_length' });
    const sharedExperts = f.optionalInt('sharedExperts', ['expert_shared_count'], shapeOf(checkpoint, `blk.${numLayers - 1}.ffn_up_shexp.weight`, 0, 'one shared expert') ? { value: 1, from: 'ffn_up_shexp tensors' } : undefined) ?? 0;
    const sharedIntermediateSize = sharedExperts > 0 ? f.int('sharedIntermediateSize', ['expert_shared_feed_forward_length'], shapeOf(checkpoint, `blk.${numLayers - 1}.ffn_up_shexp.weight`, 0, 'shared expert width'), { value: expertIntermediateSize, why: 'the routed experts\' width' }) : 0;
    const leading = f.optionalInt('firstDenseLayers', ['leading_dense_block_count']) ?? 0;
    moe = { experts, expertsPerToken: f.int('expertsPerToken', ['expert_used_count']), sharedExperts, expertIntermediateSize, sharedIntermediateSize, moeLayers: numLayers - leading };
  }
  const window = f.optionalInt('slidingWindow', ['attention.sliding_window']);
  const family = familyDefaults(arch);
  const tied = !checkpoint.tensors.some((t) => t.name === 'output.weight');
  f.note('tieWordEmbeddings', 'inferred', tied ? 'no output.weight tensor' : 'output.weight tensor');
  const kvLora = f.optionalInt('kvLoraRank', ['attention.kv_lora_rank']);
  const ropeDim = f.optionalInt('qkRopeHeadDim', ['rope.dimension_count']);
  const valueLength = f.optionalInt('vHeadDim', ['attention.value_length']);
  return checkArchitecture({
    source: 'gguf',
    file,
    modelType: arch,
    numLayers,
    hiddenSize,
    intermediateSize,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize,
    contextLength: f.optionalInt('contextLength', ['context_length']),
    ropeTheta: f.number('ropeTheta', ['rope.freq_base']),
    ropeScaling: f.string(['rope.scaling.type']),
    slidingWindow: window,
    slidingLayers: window !== undefined ? numLayers : 0,
    tieWordEmbeddings: tied,
    gatedMlp: checkpoint.tensors.length === 0 ? family.gatedMlp : checkpoint.tensors.some((t) => /^blk\.\d+\.ffn_gate(_exps)?\.weight$/.test(t.name)),
    layerNorm: family.layerNorm,
    qkvBias: checkpoint.tensors.some((t) => /^blk\.0\.attn_q\.bias$/.test(t.name)),
    linearBias: family.linearBias,
    moe,
    latentAttention: kvLora !== undefined && ropeDim !== undefined && valueLength !== undefined
      ? { kvLoraRank: kvLora, qLoraRank: f.optionalInt('qLoraRank', ['attention.q_lora_rank']), qkNopeHeadDim: headDim - ropeDim, qkRopeHeadDim: ropeDim, vHeadDim: valueLength }
      : undefined,
    fields: f.fields,
    countedParameters: checkpoint.tensors.reduce((s, t) => s + t.elements, 0),
    notes: [],
  }, (m) => f.fail(m));
}
