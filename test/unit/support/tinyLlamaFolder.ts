import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../../../src/core/random/seededRandom';

/** Shape of the Hugging Face llama that {@link writeTinyLlamaFolder} writes. */
export const TINY_LLAMA = { hidden: 256, inter: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 259 } as const;

function safetensors(tensors: Record<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/**
 * Writes a small but block-friendly Hugging Face llama (every row a multiple of 256, so every
 * k-quant applies) with seeded random weights, its config.json, and a byte-fallback BPE
 * tokenizer.json (`<unk>`, `<s>`, `</s>` and the 256 byte tokens), which llama.cpp needs to load.
 */
export async function writeTinyLlamaFolder(folder: string, seed = 5): Promise<void> {
  const { hidden: h, inter, layers, heads, kvHeads, vocab } = TINY_LLAMA;
  const headDim = h / heads;
  const rnd = seededRandom(seed);
  const normal = (): number => {
    const u = Math.max(rnd(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
  const mat = (rows: number, cols: number, scale = 1 / Math.sqrt(cols)) => ({ shape: [rows, cols], data: Float32Array.from({ length: rows * cols }, () => normal() * scale) });
  const norm = () => ({ shape: [h], data: Float32Array.from({ length: h }, () => 1 + 0.1 * normal()) });
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = { 'model.embed_tokens.weight': mat(vocab, h, 1) };
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    tensors[`${p}input_layernorm.weight`] = norm();
    tensors[`${p}self_attn.q_proj.weight`] = mat(heads * headDim, h);
    tensors[`${p}self_attn.k_proj.weight`] = mat(kvHeads * headDim, h);
    tensors[`${p}self_attn.v_proj.weight`] = mat(kvHeads * headDim, h);
    tensors[`${p}self_attn.o_proj.weight`] = mat(h, heads * headDim);
    tensors[`${p}post_attention_layernorm.weight`] = norm();
    tensors[`${p}mlp.gate_proj.weight`] = mat(inter, h);
    tensors[`${p}mlp.up_proj.weight`] = mat(inter, h);
    tensors[`${p}mlp.down_proj.weight`] = mat(h, inter);
  }
  tensors['model.norm.weight'] = norm();
  tensors['lm_head.weight'] = mat(vocab, h);
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: h, intermediate_size: inter, num_hidden_layers: layers,
    num_attention_heads: heads, num_key_value_heads: kvHeads, max_position_embeddings: 256, rms_norm_eps: 1e-5, rope_theta: 10000,
    tie_word_embeddings: false, vocab_size: vocab, bos_token_id: 1, eos_token_id: 2,
  };
  const special = ['<unk>', '<s>', '</s>'];
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const tokenizer = {
    version: '1.0',
    added_tokens: special.map((content, id) => ({ id, content, special: true })),
    model: { type: 'BPE', byte_fallback: true, unk_token: '<unk>', vocab: Object.fromEntries([...special, ...bytes].map((t, i) => [t, i])), merges: [] },
  };
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'model.safetensors'), safetensors(tensors));
  await writeFile(join(folder, 'config.json'), JSON.stringify(config));
  await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer));
}
