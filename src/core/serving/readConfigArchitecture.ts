import type { LatentAttention, ModelArchitecture, MoeSettings } from '../../protocol/servingTypes';
import type { TensorInfo } from '../tensor/TensorInfo';
import { familyDefaults, slidingLayout } from './decoderFamilies';
import { FieldResolver } from './FieldResolver';
import { hfTensorHints, type TensorHints } from './hfTensorHints';
import { checkArchitecture } from './checkArchitecture';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Multimodal configs keep the decoder's fields under `text_config` (Llama 4, Gemma 3, LLaVA). */
function decoderValues(json: Record<string, unknown>): Record<string, unknown> {
  const text = json['text_config'];
  if (isRecord(text) && json['hidden_size'] === undefined && json['num_hidden_layers'] === undefined) {
    return { ...text, model_type: text['model_type'] ?? json['model_type'] };
  }
  return json;
}

function ropeScaling(f: FieldResolver): string | undefined {
  const raw = f.raw('rope_scaling');
  if (!isRecord(raw)) return undefined;
  const named = raw['rope_type'] ?? raw['type'];
  const kind = typeof named === 'string' ? named : 'default';
  if (kind === 'default') return undefined;
  return typeof raw['factor'] === 'number' ? `${kind} ×${raw['factor']}` : kind;
}

/** Which layers of a MoE config are MoE layers, by DeepSeek's or Qwen2-MoE's rule (default: all). */
function moeLayerCount(f: FieldResolver, numLayers: number): number {
  const firstDense = f.optionalInt('firstDenseLayers', ['first_k_dense_replace']) ?? 0;
  const freq = f.optionalInt('moeLayerFrequency', ['moe_layer_freq']) ?? 1;
  const step = f.optionalInt('decoderSparseStep', ['decoder_sparse_step']) ?? 1;
  const mlpOnly = f.raw('mlp_only_layers');
  const dense = new Set(Array.isArray(mlpOnly) ? mlpOnly.filter((n): n is number => typeof n === 'number') : []);
  let n = 0;
  for (let i = 0; i < numLayers; i++) if (i >= firstDense && i % freq === 0 && (i + 1) % step === 0 && !dense.has(i)) n++;
  return n;
}

function readMoe(f: FieldResolver, numLayers: number, intermediateSize: number, hints: TensorHints): MoeSettings | undefined {
  const experts = f.optionalInt('experts', ['num_local_experts', 'num_experts', 'n_routed_experts', 'moe_num_experts'], hints.experts);
  if (experts === undefined || experts <= 1) return undefined;
  const expertsPerToken = f.int('expertsPerToken', ['num_experts_per_tok', 'num_experts_per_token', 'moe_top_k', 'top_k']);
  if (expertsPerToken > experts) throw f.fail(`${expertsPerToken} experts per token, but there are only ${experts} experts`);
  const expertIntermediateSize = f.int('expertIntermediateSize', ['moe_intermediate_size', 'expert_intermediate_size'], hints.expertIntermediateSize, { value: intermediateSize, why: 'intermediate_size (each expert is a full-width MLP, as in Mixtral)' });
  let sharedExperts = 0;
  let sharedIntermediateSize = 0;
  if (f.key(['shared_expert_intermediate_size']) !== undefined) {
    // Qwen2-MoE: one shared expert of its own width, scaled by a sigmoid gate.
    sharedIntermediateSize = f.int('sharedIntermediateSize', ['shared_expert_intermediate_size']);
    sharedExperts = 1;
    f.note('sharedExperts', 'inferred', 'one shared expert, as shared_expert_intermediate_size describes');
  } else if (f.key(['n_shared_experts', 'num_shared_experts']) !== undefined) {
    sharedExperts = f.int('sharedExperts', ['n_shared_experts', 'num_shared_experts']);
    sharedIntermediateSize = expertIntermediateSize;
    f.note('sharedIntermediateSize', 'inferred', 'the routed experts\' width');
  }
  return { experts, expertsPerToken, sharedExperts, expertIntermediateSize, sharedIntermediateSize, moeLayers: moeLayerCount(f, numLayers) };
}

function readLatent(f: FieldResolver): LatentAttention | undefined {
  if (f.key(['kv_lora_rank']) === undefined) return undefined;
  return {
    kvLoraRank: f.int('kvLoraRank', ['kv_lora_rank']),
    qLoraRank: f.optionalInt('qLoraRank', ['q_lora_rank']),
    qkNopeHeadDim: f.int('qkNopeHeadDim', ['qk_nope_head_dim']),
    qkRopeHeadDim: f.int('qkRopeHeadDim', ['qk_rope_head_dim']),
    vHeadDim: f.int('vHeadDim', ['v_head_dim']),
  };
}

/**
 * Reads a decoder's architecture from a Hugging Face `config.json` (already parsed), for any
 * decoder family: the keys of Llama, Mistral, Mixtral, Qwen2(-MoE), DeepSeek, Gemma, GPT-2 and
 * others are looked up under their various names, and an unknown `model_type` is accepted when
 * the fields are there. `tensors`, when given, fill what the config leaves out (vocabulary, layer
 * and expert counts, widths) and are counted. Throws a FormatError naming the missing field.
 */
export function readConfigArchitecture(json: unknown, file = 'config.json', tensors?: readonly TensorInfo[]): ModelArchitecture {
  if (!isRecord(json)) throw new FieldResolver(file, {}, 'config').fail('is not a JSON object');
  const values = decoderValues(json);
  const f = new FieldResolver(file, values, 'config');
  const hints = hfTensorHints(tensors);
  const notes: string[] = [];
  const modelType = f.string(['model_type']) ?? 'unknown';
  const family = familyDefaults(modelType);
  if (!family.known) notes.push(`model_type "${modelType}" is not one Quantscope knows; its layout (gated MLP, RMSNorm, no biases) was assumed where the config does not say`);
  const numLayers = f.int('numLayers', ['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers'], hints.numLayers);
  const hiddenSize = f.int('hiddenSize', ['hidden_size', 'n_embd', 'd_model', 'dim', 'model_dim']);
  const numHeads = f.int('numHeads', ['num_attention_heads', 'n_head', 'num_heads', 'n_heads']);
  const headDim = f.int('headDim', ['head_dim', 'attention_head_dim'], undefined, hiddenSize % numHeads === 0 ? { value: hiddenSize / numHeads, why: 'hidden_size / num_attention_heads' } : undefined);
  const kvFromKeys = hints.keyRows && hints.keyRows.value % headDim === 0 ? { value: hints.keyRows.value / headDim, from: hints.keyRows.from } : undefined;
  const multiQuery = values['multi_query'] === true ? { value: 1, why: 'multi_query is true' } : undefined;
  const numKvHeads = f.int('numKvHeads', ['num_key_value_heads', 'num_kv_heads', 'n_kv_heads', 'n_head_kv'], kvFromKeys, multiQuery ?? { value: numHeads, why: 'num_attention_heads (multi-head attention)' });
  const vocabSize = f.int('vocabSize', ['vocab_size', 'padded_vocab_size', 'n_vocab'], hints.vocabSize);
  const intermediateSize = f.int('intermediateSize', ['intermediate_size', 'n_inner', 'ffn_dim', 'ffn_hidden_size', 'hidden_dim'], hints.intermediateSize, family.gatedMlp ? undefined : { value: 4 * hiddenSize, why: '4 × hidden size' });
  const contextLength = f.optionalInt('contextLength', ['max_position_embeddings', 'n_positions', 'max_seq_len', 'seq_length', 'max_sequence_length', 'n_ctx', 'model_max_length']);
  if (contextLength === undefined) notes.push('the config gives no context length (max_position_embeddings)');
  const windowValue = values['sliding_window'];
  let slidingWindow: number | undefined;
  let slidingLayers = 0;
  if (typeof windowValue === 'number' && windowValue > 0) {
    const layout = slidingLayout(modelType, numLayers, values);
    if (layout.layers > 0) {
      slidingWindow = f.int('slidingWindow', ['sliding_window']);
      slidingLayers = layout.layers;
      f.note('slidingLayers', layout.rule === 'layer_types' ? 'read' : 'default', layout.rule);
    }
  }
  const tied = f.bool('tieWordEmbeddings', ['tie_word_embeddings'], hints.tied ?? family.tieWordEmbeddings, hints.tied !== undefined ? 'weights hold no separate output head' : `the ${modelType} config's default`);
  if (hints.tied !== undefined && f.key(['tie_word_embeddings']) === undefined) f.note('tieWordEmbeddings', 'inferred', hints.tied ? 'no lm_head.weight among the weights' : 'lm_head.weight among the weights');
  const attentionBias = f.bool('qkvBias', ['attention_bias', 'qkv_bias'], family.qkvBias || family.linearBias, `the ${modelType} family's layout`);
  return checkArchitecture({
    source: 'config',
    file,
    modelType,
    numLayers,
    hiddenSize,
    intermediateSize,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize,
    contextLength,
    ropeTheta: f.number('ropeTheta', ['rope_theta', 'rotary_emb_base', 'rope_base']),
    ropeScaling: ropeScaling(f),
    slidingWindow,
    slidingLayers,
    tieWordEmbeddings: tied,
    gatedMlp: family.gatedMlp,
    layerNorm: family.layerNorm,
    qkvBias: attentionBias,
    linearBias: family.linearBias,
    moe: readMoe(f, numLayers, intermediateSize, hints),
    latentAttention: readLatent(f),
    fields: f.fields,
    countedParameters: hints.parameters,
    notes,
  }, (m) => f.fail(m));
}
