/**
 * What a config does not say but a model family implies: MLP and norm style, biases, tying, and
 * which layers attend within a sliding window. Unknown families get the Llama layout, and the
 * architecture records that the value was assumed.
 */

/** Families whose MLP is up → activation → down (no gate). */
const UNGATED = new Set(['gpt2', 'gpt_neox', 'gptj', 'opt', 'bloom', 'falcon', 'phi', 'starcoder2', 'gpt_bigcode', 'mpt', 'codegen']);
/** Families with LayerNorm (weight and bias) rather than RMSNorm. */
const LAYER_NORM = new Set(['gpt2', 'gpt_neox', 'gptj', 'opt', 'bloom', 'falcon', 'phi', 'starcoder2', 'gpt_bigcode', 'codegen', 'stablelm']);
/** Families with a bias on every linear layer. */
const LINEAR_BIAS = new Set(['gpt2', 'gpt_neox', 'opt', 'bloom', 'phi', 'starcoder2', 'gpt_bigcode']);
/** Families with biases on q, k and v only. */
const QKV_BIAS = new Set(['qwen2', 'qwen2_moe', 'qwen2_vl', 'qwen2_5_vl']);
/** Families whose config class ties the head to the embedding unless told otherwise. */
const TIED = new Set(['gpt2', 'gemma', 'gemma2', 'gemma3', 'gemma3_text', 'opt', 'bloom', 'gpt_bigcode', 'falcon', 'phi']);

/** The family's layout defaults. */
export interface FamilyDefaults {
  readonly gatedMlp: boolean;
  readonly layerNorm: boolean;
  readonly linearBias: boolean;
  readonly qkvBias: boolean;
  readonly tieWordEmbeddings: boolean;
  /** True when the family is one this table knows. */
  readonly known: boolean;
}

const KNOWN_GATED = ['llama', 'mistral', 'mixtral', 'qwen2', 'qwen2_moe', 'qwen3', 'qwen3_moe', 'gemma', 'gemma2', 'gemma3', 'gemma3_text', 'deepseek_v2', 'deepseek_v3', 'phi3', 'olmo', 'olmo2', 'olmoe', 'granite', 'granitemoe', 'cohere', 'internlm2', 'yi', 'baichuan', 'exaone', 'stablelm'];

/** The layout of `modelType`'s family. */
export function familyDefaults(modelType: string): FamilyDefaults {
  return {
    gatedMlp: !UNGATED.has(modelType),
    layerNorm: LAYER_NORM.has(modelType),
    linearBias: LINEAR_BIAS.has(modelType),
    qkvBias: QKV_BIAS.has(modelType),
    tieWordEmbeddings: TIED.has(modelType),
    known: UNGATED.has(modelType) || KNOWN_GATED.includes(modelType),
  };
}

/** How a config's sliding window applies to its layers; `layers` is how many use it. */
export interface SlidingLayout {
  readonly layers: number;
  /** The rule, for the field's origin. */
  readonly rule: string;
}

/**
 * Which layers use the window, by the family's rule: an explicit `layer_types` list, Qwen2's
 * `use_sliding_window` with `max_window_layers` (layers from that index on), Gemma 2's
 * alternation (even layers), Gemma 3's `sliding_window_pattern` (every n-th layer global), else
 * every layer (Mistral, Phi-3, Starcoder2).
 */
export function slidingLayout(modelType: string, numLayers: number, values: Readonly<Record<string, unknown>>): SlidingLayout {
  const types = values['layer_types'];
  if (Array.isArray(types)) return { layers: types.filter((t) => t === 'sliding_attention').length, rule: 'layer_types' };
  if (values['use_sliding_window'] === false) return { layers: 0, rule: 'use_sliding_window is false' };
  if (modelType.startsWith('qwen')) {
    if (values['use_sliding_window'] !== true) return { layers: 0, rule: 'use_sliding_window is not set' };
    const first = typeof values['max_window_layers'] === 'number' ? values['max_window_layers'] : 0;
    return { layers: Math.max(0, numLayers - first), rule: `layers from max_window_layers ${first} on` };
  }
  if (modelType === 'gemma2') return { layers: Math.ceil(numLayers / 2), rule: 'Gemma 2 alternates: even layers use the window' };
  if (modelType.startsWith('gemma3')) {
    const pattern = typeof values['sliding_window_pattern'] === 'number' ? values['sliding_window_pattern'] : 6;
    return { layers: numLayers - Math.floor(numLayers / pattern), rule: `every ${pattern}th layer global (sliding_window_pattern)` };
  }
  return { layers: numLayers, rule: 'every layer' };
}
