/**
 * ggml's tensor types: the type ids a GGUF file uses, their block sizes, and dequantizers for the
 * block formats we compute statistics on. The block layouts follow ggml-common.h and the
 * `dequantize_row_*` reference routines of ggml-quants.c, so values match llama.cpp exactly.
 */
import type { DType } from './DType';
import { f16Lookup } from './floatTables';
import { dequantIq4Nl, dequantIq4Xs } from './ggmlIq4';

/** Decodes `blocks` whole blocks from `bytes` (offset 0) into `out[0 .. blocks * blockSize)`. */
export type Dequantizer = (bytes: Uint8Array, blocks: number, out: Float32Array) => void;

/** One ggml tensor type. */
export interface GgmlType {
  /** ggml's `enum ggml_type` value as stored in GGUF tensor infos. */
  readonly id: number;
  /** ggml's name, such as `Q4_K`. */
  readonly name: string;
  /** Elements per block (1 for plain types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** How the tensor's dtype is shown: plain dtypes keep their usual name, blocks get `GGML_` + name. */
  readonly dtype: DType;
  /** Present for block types we can decode. */
  readonly dequantize?: Dequantizer;
}

const QK_K = 256;

function half(b: Uint8Array, o: number, table: Float32Array): number {
  return table[b[o] | (b[o + 1] << 8)];
}

function dequantQ4_0(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 18, p += 32) {
    const d = half(b, o, t);
    for (let j = 0; j < 16; j++) {
      const q = b[o + 2 + j];
      y[p + j] = ((q & 15) - 8) * d;
      y[p + j + 16] = ((q >> 4) - 8) * d;
    }
  }
}

function dequantQ4_1(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 20, p += 32) {
    const d = half(b, o, t);
    const m = half(b, o + 2, t);
    for (let j = 0; j < 16; j++) {
      const q = b[o + 4 + j];
      y[p + j] = Math.fround((q & 15) * d) + m;
      y[p + j + 16] = Math.fround((q >> 4) * d) + m;
    }
  }
}

function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** Q5_0 and Q5_1 share the layout of the fifth bit: bit j of `qh` belongs to element j. */
function dequantQ5(b: Uint8Array, blocks: number, y: Float32Array, withMin: boolean): void {
  const t = f16Lookup();
  const size = withMin ? 24 : 22;
  const qsAt = withMin ? 8 : 6;
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += size, p += 32) {
    const d = half(b, o, t);
    const m = withMin ? half(b, o + 2, t) : 0;
    const qh = u32le(b, o + qsAt - 4);
    const off = withMin ? 0 : 16;
    for (let j = 0; j < 16; j++) {
      const q = b[o + qsAt + j];
      const x0 = ((q & 15) | (((qh >>> j) << 4) & 0x10)) - off;
      const x1 = ((q >> 4) | ((qh >>> (j + 12)) & 0x10)) - off;
      y[p + j] = Math.fround(x0 * d) + m;
      y[p + j + 16] = Math.fround(x1 * d) + m;
    }
  }
}

function dequantQ8_0(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 34, p += 32) {
    const d = half(b, o, t);
    for (let j = 0; j < 32; j++) y[p + j] = ((b[o + 2 + j] << 24) >> 24) * d;
  }
}

function dequantQ2_K(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  // layout: scales[16], qs[64], d, dmin
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 84) {
    const d = half(b, o + 80, t);
    const dmin = half(b, o + 82, t);
    let is = 0;
    for (let n = 0; n < QK_K; n += 128) {
      const q = o + 16 + n / 4;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half16 = 0; half16 < 32; half16 += 16) {
          const sc = b[o + is++];
          const dl = Math.fround(d * (sc & 15));
          const ml = Math.fround(dmin * (sc >> 4));
          for (let l = 0; l < 16; l++) y[p++] = Math.fround(dl * ((b[q + half16 + l] >> shift) & 3)) - ml;
        }
      }
    }
  }
}

function dequantQ3_K(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  const scales = new Int8Array(16);
  // layout: hmask[32], qs[64], scales[12], d
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 110) {
    const dAll = half(b, o + 108, t);
    // 16 six-bit scales: low 4 bits from bytes 0..7, high 2 bits from bytes 8..11.
    const s = o + 96;
    for (let k = 0; k < 16; k++) {
      const low = k < 8 ? b[s + k] & 15 : b[s + k - 8] >> 4;
      const high = (b[s + 8 + (k & 3)] >> (2 * (k >> 2))) & 3;
      scales[k] = (low | (high << 4)) - 32;
    }
    let is = 0;
    let m = 1;
    for (let n = 0; n < QK_K; n += 128) {
      const q = o + 32 + n / 4;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half16 = 0; half16 < 32; half16 += 16) {
          const dl = Math.fround(dAll * scales[is++]);
          for (let l = 0; l < 16; l++) {
            const hm = b[o + half16 + l] & m ? 0 : 4;
            y[p++] = dl * (((b[q + half16 + l] >> shift) & 3) - hm);
          }
        }
        m <<= 1;
      }
    }
  }
}

/** ggml's get_scale_min_k4: 8 six-bit scales and 8 six-bit mins packed into 12 bytes at `s`. */
function scaleMinK4(j: number, b: Uint8Array, s: number, out: Uint8Array): void {
  if (j < 4) {
    out[0] = b[s + j] & 63;
    out[1] = b[s + j + 4] & 63;
  } else {
    out[0] = (b[s + j + 4] & 15) | ((b[s + j - 4] >> 6) << 4);
    out[1] = (b[s + j + 4] >> 4) | ((b[s + j] >> 6) << 4);
  }
}

function dequantQ4_K(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  const sm = new Uint8Array(2);
  // layout: d, dmin, scales[12], qs[128]
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 144) {
    const d = half(b, o, t);
    const dmin = half(b, o + 2, t);
    let q = o + 16;
    for (let is = 0; is < 8; is += 2, q += 32) {
      scaleMinK4(is, b, o + 4, sm);
      const d1 = Math.fround(d * sm[0]);
      const m1 = Math.fround(dmin * sm[1]);
      scaleMinK4(is + 1, b, o + 4, sm);
      const d2 = Math.fround(d * sm[0]);
      const m2 = Math.fround(dmin * sm[1]);
      for (let l = 0; l < 32; l++) y[p++] = Math.fround(d1 * (b[q + l] & 15)) - m1;
      for (let l = 0; l < 32; l++) y[p++] = Math.fround(d2 * (b[q + l] >> 4)) - m2;
    }
  }
}

function dequantQ5_K(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  const sm = new Uint8Array(2);
  // layout: d, dmin, scales[12], qh[32], qs[128]
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 176) {
    const d = half(b, o, t);
    const dmin = half(b, o + 2, t);
    const qh = o + 16;
    let ql = o + 48;
    let u1 = 1;
    let u2 = 2;
    for (let is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      scaleMinK4(is, b, o + 4, sm);
      const d1 = Math.fround(d * sm[0]);
      const m1 = Math.fround(dmin * sm[1]);
      scaleMinK4(is + 1, b, o + 4, sm);
      const d2 = Math.fround(d * sm[0]);
      const m2 = Math.fround(dmin * sm[1]);
      for (let l = 0; l < 32; l++) y[p++] = Math.fround(d1 * ((b[ql + l] & 15) + (b[qh + l] & u1 ? 16 : 0))) - m1;
      for (let l = 0; l < 32; l++) y[p++] = Math.fround(d2 * ((b[ql + l] >> 4) + (b[qh + l] & u2 ? 16 : 0))) - m2;
    }
  }
}

function dequantQ6_K(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  // layout: ql[128], qh[64], scales[16] (int8), d
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 210, p += QK_K) {
    const d = half(b, o + 208, t);
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n;
      const qh = o + 128 + 32 * n;
      const sc = o + 192 + 8 * n;
      const yp = p + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = b[qh + l];
        const q1 = ((b[ql + l] & 15) | ((h & 3) << 4)) - 32;
        const q2 = ((b[ql + l + 32] & 15) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((b[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((b[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        y[yp + l] = Math.fround(d * ((b[sc + is] << 24) >> 24)) * q1;
        y[yp + l + 32] = Math.fround(d * ((b[sc + is + 2] << 24) >> 24)) * q2;
        y[yp + l + 64] = Math.fround(d * ((b[sc + is + 4] << 24) >> 24)) * q3;
        y[yp + l + 96] = Math.fround(d * ((b[sc + is + 6] << 24) >> 24)) * q4;
      }
    }
  }
}

function dequantQ8_K(b: Uint8Array, blocks: number, y: Float32Array): void {
  // layout: d (float32), qs[256] (int8), bsums[16] (int16)
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 292) {
    const d = view.getFloat32(o, true);
    for (let j = 0; j < QK_K; j++) y[p++] = d * ((b[o + 4 + j] << 24) >> 24);
  }
}

function block(id: number, name: string, blockSize: number, typeSize: number, dequantize?: Dequantizer): GgmlType {
  return dequantize ? { id, name, blockSize, typeSize, dtype: `GGML_${name}`, dequantize } : { id, name, blockSize, typeSize, dtype: `GGML_${name}` };
}

function plain(id: number, name: string, typeSize: number, dtype: DType): GgmlType {
  return { id, name, blockSize: 1, typeSize, dtype };
}

/** Every ggml type a GGUF file may name, by id. Removed ids (4, 5, 31–33, 36–38) are absent. */
export const GGML_TYPES: readonly GgmlType[] = [
  plain(0, 'F32', 4, 'F32'),
  plain(1, 'F16', 2, 'F16'),
  block(2, 'Q4_0', 32, 18, dequantQ4_0),
  block(3, 'Q4_1', 32, 20, dequantQ4_1),
  block(6, 'Q5_0', 32, 22, (b, n, y) => dequantQ5(b, n, y, false)),
  block(7, 'Q5_1', 32, 24, (b, n, y) => dequantQ5(b, n, y, true)),
  block(8, 'Q8_0', 32, 34, dequantQ8_0),
  block(9, 'Q8_1', 32, 36),
  block(10, 'Q2_K', QK_K, 84, dequantQ2_K),
  block(11, 'Q3_K', QK_K, 110, dequantQ3_K),
  block(12, 'Q4_K', QK_K, 144, dequantQ4_K),
  block(13, 'Q5_K', QK_K, 176, dequantQ5_K),
  block(14, 'Q6_K', QK_K, 210, dequantQ6_K),
  block(15, 'Q8_K', QK_K, 292, dequantQ8_K),
  block(16, 'IQ2_XXS', QK_K, 66),
  block(17, 'IQ2_XS', QK_K, 74),
  block(18, 'IQ3_XXS', QK_K, 98),
  block(19, 'IQ1_S', QK_K, 50),
  block(20, 'IQ4_NL', 32, 18, dequantIq4Nl),
  block(21, 'IQ3_S', QK_K, 110),
  block(22, 'IQ2_S', QK_K, 82),
  block(23, 'IQ4_XS', QK_K, 136, dequantIq4Xs),
  plain(24, 'I8', 1, 'I8'),
  plain(25, 'I16', 2, 'I16'),
  plain(26, 'I32', 4, 'I32'),
  plain(27, 'I64', 8, 'I64'),
  plain(28, 'F64', 8, 'F64'),
  block(29, 'IQ1_M', QK_K, 56),
  plain(30, 'BF16', 2, 'BF16'),
  block(34, 'TQ1_0', QK_K, 54),
  block(35, 'TQ2_0', QK_K, 66),
  block(39, 'MXFP4', 32, 17),
];

const byId = new Map(GGML_TYPES.map((t) => [t.id, t]));
const byDType = new Map(GGML_TYPES.filter((t) => t.blockSize > 1).map((t) => [t.dtype as string, t]));

/** The ggml type with this id, or undefined for ids ggml does not (or no longer) define. */
export function ggmlTypeById(id: number): GgmlType | undefined {
  return byId.get(id);
}

/** The ggml block type behind a `GGML_*` dtype, or undefined for any other dtype. */
export function ggmlBlockType(dtype: DType): GgmlType | undefined {
  return byDType.get(dtype);
}
