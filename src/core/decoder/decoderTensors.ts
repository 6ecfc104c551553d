import type { DecoderConfig } from './DecoderConfig';

/** One tensor the decoder needs, under its Hugging Face name, with the shape HF stores it in. */
export interface DecoderTensor {
  /** The Hugging Face name (`model.layers.0.self_attn.q_proj.weight`), used inside the engine. */
  readonly name: string;
  /** Row-major shape, [out, in] for projections. */
  readonly shape: readonly number[];
  /** The config fields the shape follows from, for the message when a file disagrees. */
  readonly from: string;
  /** For Q and K: the head count whose rows a rotary-interleaved source permuted. */
  readonly rotaryHeads?: number;
}

/** Every tensor a decoder of config `c` reads, in graph order. */
export function decoderTensors(c: DecoderConfig): DecoderTensor[] {
  const h = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const heads = `num_attention_heads ${c.numHeads} × head_dim ${c.headDim}`;
  const kvHeads = `num_key_value_heads ${c.numKvHeads} × head_dim ${c.headDim}`;
  const out: DecoderTensor[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, h], from: `vocab_size ${c.vocabSize}, hidden_size ${h}` }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    out.push({ name: `${p}input_layernorm.weight`, shape: [h], from: `hidden_size ${h}` });
    out.push({ name: `${p}self_attn.q_proj.weight`, shape: [q, h], from: `${heads}, hidden_size ${h}`, rotaryHeads: c.numHeads });
    out.push({ name: `${p}self_attn.k_proj.weight`, shape: [kv, h], from: `${kvHeads}, hidden_size ${h}`, rotaryHeads: c.numKvHeads });
    out.push({ name: `${p}self_attn.v_proj.weight`, shape: [kv, h], from: `${kvHeads}, hidden_size ${h}` });
    if (c.attentionBias) {
      out.push({ name: `${p}self_attn.q_proj.bias`, shape: [q], from: heads, rotaryHeads: c.numHeads });
      out.push({ name: `${p}self_attn.k_proj.bias`, shape: [kv], from: kvHeads, rotaryHeads: c.numKvHeads });
      out.push({ name: `${p}self_attn.v_proj.bias`, shape: [kv], from: kvHeads });
    }
    out.push({ name: `${p}self_attn.o_proj.weight`, shape: [h, q], from: `hidden_size ${h}, ${heads}` });
    out.push({ name: `${p}post_attention_layernorm.weight`, shape: [h], from: `hidden_size ${h}` });
    const inter = `intermediate_size ${c.intermediateSize}`;
    out.push({ name: `${p}mlp.gate_proj.weight`, shape: [c.intermediateSize, h], from: `${inter}, hidden_size ${h}` });
    out.push({ name: `${p}mlp.up_proj.weight`, shape: [c.intermediateSize, h], from: `${inter}, hidden_size ${h}` });
    out.push({ name: `${p}mlp.down_proj.weight`, shape: [h, c.intermediateSize], from: `hidden_size ${h}, ${inter}` });
  }
  out.push({ name: 'model.norm.weight', shape: [h], from: `hidden_size ${h}` });
  if (!c.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, h], from: `vocab_size ${c.vocabSize}, hidden_size ${h}` });
  return out;
}

/** How a checkpoint names a decoder's tensors. */
export type TensorNaming = 'hf' | 'meta' | 'gguf';

const META_LAYER: Readonly<Record<string, string>> = {
  'attention_norm.weight': 'input_layernorm.weight',
  'attention.wq.weight': 'self_attn.q_proj.weight',
  'attention.wk.weight': 'self_attn.k_proj.weight',
  'attention.wv.weight': 'self_attn.v_proj.weight',
  'attention.wo.weight': 'self_attn.o_proj.weight',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'feed_forward.w1.weight': 'mlp.gate_proj.weight',
  'feed_forward.w3.weight': 'mlp.up_proj.weight',
  'feed_forward.w2.weight': 'mlp.down_proj.weight',
};
const META_TOP: Readonly<Record<string, string>> = { 'tok_embeddings.weight': 'model.embed_tokens.weight', 'norm.weight': 'model.norm.weight', 'output.weight': 'lm_head.weight' };

const GGUF_LAYER: Readonly<Record<string, string>> = {
  'attn_norm.weight': 'input_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
};
const GGUF_TOP: Readonly<Record<string, string>> = { 'token_embd.weight': 'model.embed_tokens.weight', 'output_norm.weight': 'model.norm.weight', 'output.weight': 'lm_head.weight' };

/** The Hugging Face name of a stored tensor, or undefined when the decoder does not use it. */
export function canonicalName(stored: string, naming: TensorNaming): string | undefined {
  if (naming === 'hf') return stored;
  const top = naming === 'meta' ? META_TOP : GGUF_TOP;
  if (Object.prototype.hasOwnProperty.call(top, stored)) return top[stored];
  const m = (naming === 'meta' ? /^layers\.(\d+)\.(.+)$/ : /^blk\.(\d+)\.(.+)$/).exec(stored);
  if (!m) return undefined;
  const layer = naming === 'meta' ? META_LAYER : GGUF_LAYER;
  const rest = Object.prototype.hasOwnProperty.call(layer, m[2]) ? layer[m[2]] : undefined;
  return rest === undefined ? undefined : `model.layers.${m[1]}.${rest}`;
}

/** The name a checkpoint of `naming` stores the HF tensor `name` under (for messages). */
export function storedName(name: string, naming: TensorNaming): string {
  if (naming === 'hf') return name;
  const top = naming === 'meta' ? META_TOP : GGUF_TOP;
  for (const [k, v] of Object.entries(top)) if (v === name) return k;
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  if (!m) return name;
  const layer = naming === 'meta' ? META_LAYER : GGUF_LAYER;
  for (const [k, v] of Object.entries(layer)) if (v === m[2]) return `${naming === 'meta' ? 'layers' : 'blk'}.${m[1]}.${k}`;
  return name;
}
