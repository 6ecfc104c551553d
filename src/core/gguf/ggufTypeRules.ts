/**
 * Which ggml type each tensor gets: one type for every quantizable weight (llama-quantize --pure),
 * or a preset that mixes types per tensor as llama.cpp's llama_tensor_get_type does for dense
 * models, and the fallback when a row does not split into the type's blocks.
 */
import type { GgmlType } from '../tensor/ggmlBlocks';
import { writableGgmlType } from '../tensor/ggmlQuantizers';

/** The presets we write, named as llama-quantize names them. */
export const GGUF_PRESETS = ['Q8_0', 'Q4_K_M', 'Q5_K_M', 'Q3_K_M'] as const;
/** One of {@link GGUF_PRESETS}. */
export type GgufPreset = (typeof GGUF_PRESETS)[number];

/** What `--to gguf:X` asked for. */
export type GgufTarget =
  | { readonly kind: 'preset'; readonly preset: GgufPreset; readonly base: GgmlType }
  | { readonly kind: 'pure'; readonly type: GgmlType };

/** llama.cpp's `general.file_type` (enum llama_ftype) for each target. */
const FILE_TYPE: Readonly<Record<string, number>> = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K: 12, Q3_K_M: 12,
  Q4_K: 15, Q4_K_M: 15, Q5_K: 17, Q5_K_M: 17, Q6_K: 18, BF16: 32,
};

function type(name: string): GgmlType {
  const t = writableGgmlType(name);
  if (!t) throw new Error(`ggml type ${name} is not writable`);
  return t;
}

/** Parses `q4_k_m`, `Q8_0` or `q6_k` (case-insensitive); throws naming the accepted values. */
export function parseGgufTarget(text: string): GgufTarget {
  const name = text.trim().toUpperCase();
  const preset = GGUF_PRESETS.find((p) => p === name);
  // Q8_0 is both a preset and a type; as a preset it keeps norms in F32 like every other target.
  if (preset) return { kind: 'preset', preset, base: type(preset === 'Q8_0' ? 'Q8_0' : preset.slice(0, 4)) };
  const t = writableGgmlType(name);
  if (t) return { kind: 'pure', type: t };
  throw new Error(`unknown GGUF type "${text}": use a preset (${GGUF_PRESETS.join(', ').toLowerCase()}) or a ggml type (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k)`);
}

/** The target's name as llama.cpp shows it (`Q4_K_M`, `Q6_K`). */
export function targetName(t: GgufTarget): string {
  return t.kind === 'preset' ? t.preset : t.type.name;
}

/** `general.file_type` for the target. */
export function fileTypeOf(t: GgufTarget): number {
  return FILE_TYPE[targetName(t)] ?? 0;
}

/** Whether llama-quantize quantizes this tensor: 2-D and more weights, not norms or rotary factors. */
export function isQuantizable(name: string, shape: readonly number[]): boolean {
  if (shape.length < 2 || !name.endsWith('.weight')) return false;
  return !/_norm\.weight$|^rope_freqs|pos_embd|token_types/.test(name);
}

/** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between. */
function useMoreBits(i: number, n: number): boolean {
  const e = Math.floor(n / 8);
  return i < e || i >= Math.floor((7 * n) / 8) || (i - e) % 3 === 2;
}

/** Per-model context the preset rules look at. */
export interface TypeContext {
  readonly layers: number;
}

function layerOf(name: string): number | undefined {
  const m = /^blk\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The type a preset gives `name` (before the block-fit fallback). */
function presetType(preset: GgufPreset, base: GgmlType, name: string, ctx: TypeContext): GgmlType {
  if (preset === 'Q8_0') return base;
  if (name === 'output.weight') return type('Q6_K');
  const i = layerOf(name);
  const n = ctx.layers;
  if (name.endsWith('.attn_v.weight') && i !== undefined) {
    if (preset === 'Q3_K_M') return type(i < 2 ? 'Q5_K' : 'Q4_K');
    return useMoreBits(i, n) ? type('Q6_K') : base;
  }
  if (name.endsWith('.ffn_down.weight') && i !== undefined) {
    if (preset === 'Q3_K_M') return type(i < Math.floor(n / 16) ? 'Q5_K' : 'Q4_K');
    return useMoreBits(i, n) ? type('Q6_K') : base;
  }
  if (name.endsWith('.attn_output.weight') && preset === 'Q3_K_M') return type('Q4_K');
  return base;
}

/**
 * llama.cpp's fallback for rows that do not split into 256-value super-blocks: Q4_K → Q5_0,
 * Q5_K → Q5_1, Q6_K → Q8_0, and Q2_K / Q3_K → Q4_0 (llama.cpp picks IQ4_NL there, which we do not
 * write; Q4_0 has the same 4.5 bits per weight). Rows that fit no 32-block go to F16.
 */
const FALLBACK: Readonly<Record<string, string>> = { Q2_K: 'Q4_0', Q3_K: 'Q4_0', Q4_K: 'Q5_0', Q5_K: 'Q5_1', Q6_K: 'Q8_0' };

/** The type chosen for one tensor, and what it replaced when the row length did not fit. */
export interface TensorTypeChoice {
  readonly type: GgmlType;
  readonly wanted?: GgmlType;
}

/**
 * The ggml type `name` (row-major `shape`) is written in under `target`: F32 for tensors llama.cpp
 * never quantizes, else the pure type or the preset's choice, moved to a type whose block divides
 * the row when needed.
 */
export function chooseTensorType(target: GgufTarget, name: string, shape: readonly number[], ctx: TypeContext): TensorTypeChoice {
  if (!isQuantizable(name, shape)) return { type: type('F32') };
  const wanted = target.kind === 'pure' ? target.type : presetType(target.preset, target.base, name, ctx);
  const row = shape[shape.length - 1];
  if (row % wanted.blockSize === 0) return { type: wanted };
  let t = Object.prototype.hasOwnProperty.call(FALLBACK, wanted.name) ? type(FALLBACK[wanted.name]) : type('F16');
  if (row % t.blockSize !== 0) t = type('F16');
  return { type: t, wanted };
}
