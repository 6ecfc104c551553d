/**
 * The ggml types we can write, and one entry point that encodes float32 rows into any of them:
 * plain F32 / F16 / BF16 and the round-to-nearest block encoders of ggmlQuantizeLegacy and
 * ggmlQuantizeK.
 */
import { ggmlTypeById, type GgmlType } from './ggmlBlocks';
import { quantizeQ2_K, quantizeQ3_K, quantizeQ4_K, quantizeQ5_K, quantizeQ6_K } from './ggmlQuantizeK';
import { IMPORTANCE_QUANTIZERS } from './ggmlQuantizeImportance';
import { quantizeQ4_0, quantizeQ4_1, quantizeQ5_0, quantizeQ5_1, quantizeQ8_0, type Quantizer } from './ggmlQuantizeLegacy';
import { f32ToBf16Bits, f32ToF16Bits } from './ggmlRounding';

const encodeF32: Quantizer = (x, n, out) => out.set(new Uint8Array(x.buffer, x.byteOffset, n * 4));
const encodeF16: Quantizer = (x, n, out) => {
  for (let i = 0; i < n; i++) {
    const h = f32ToF16Bits(x[i]);
    out[2 * i] = h & 255;
    out[2 * i + 1] = h >>> 8;
  }
};
const encodeBF16: Quantizer = (x, n, out) => {
  for (let i = 0; i < n; i++) {
    const h = f32ToBf16Bits(x[i]);
    out[2 * i] = h & 255;
    out[2 * i + 1] = h >>> 8;
  }
};

const ENCODERS: ReadonlyMap<string, Quantizer> = new Map([
  ['F32', encodeF32], ['F16', encodeF16], ['BF16', encodeBF16],
  ['Q8_0', quantizeQ8_0], ['Q4_0', quantizeQ4_0], ['Q4_1', quantizeQ4_1], ['Q5_0', quantizeQ5_0], ['Q5_1', quantizeQ5_1],
  ['Q2_K', quantizeQ2_K], ['Q3_K', quantizeQ3_K], ['Q4_K', quantizeQ4_K], ['Q5_K', quantizeQ5_K], ['Q6_K', quantizeQ6_K],
]);

const BY_NAME = new Map([0, 1, 30, 8, 2, 3, 6, 7, 10, 11, 12, 13, 14].map((id) => {
  const t = ggmlTypeById(id);
  if (!t) throw new Error(`ggml type ${id} missing from the type table`);
  return [t.name, t] as const;
}));

/** Names of the ggml types {@link encodeGgml} writes, plain types first. */
export const WRITABLE_GGML_TYPES: readonly string[] = [...BY_NAME.keys()];

/** The writable ggml type called `name` (case-insensitive, such as `q4_k`), or undefined. */
export function writableGgmlType(name: string): GgmlType | undefined {
  return BY_NAME.get(name.toUpperCase());
}

/** True when {@link encodeGgml} uses an importance vector for `type` (llama.cpp's imatrix types we write). */
export function usesImportance(type: GgmlType): boolean {
  return IMPORTANCE_QUANTIZERS.has(type.name);
}

/**
 * Encodes `x` (whole blocks of `type`) into ggml's bytes for that type. With `importance` (one
 * non-negative weight per column; `x` is whole rows of that length) the types of
 * {@link usesImportance} minimize the importance-weighted error as llama.cpp does with an
 * imatrix; the other types ignore it. Throws when the length is not a multiple of the block
 * size: callers pick a type that fits each row first.
 */
export function encodeGgml(type: GgmlType, x: Float32Array, importance?: Float32Array): Uint8Array {
  const encode = ENCODERS.get(type.name);
  if (!encode) throw new Error(`writing ggml type ${type.name} is not supported (writable: ${WRITABLE_GGML_TYPES.join(', ')})`);
  if (x.length % type.blockSize !== 0) throw new Error(`${x.length} values are not whole ${type.name} blocks of ${type.blockSize}`);
  const blocks = x.length / type.blockSize;
  const out = new Uint8Array(blocks * type.typeSize);
  const weighted = importance === undefined ? undefined : IMPORTANCE_QUANTIZERS.get(type.name);
  if (weighted && importance) weighted(x, blocks, out, importance);
  else encode(x, blocks, out);
  return out;
}
