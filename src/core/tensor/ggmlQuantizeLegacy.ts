/**
 * Encoders for ggml's 32-element block types Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0, following the
 * `quantize_row_*_ref` routines of ggml-quants.c step by step in float32, so the bytes equal
 * what llama.cpp's reference quantizer writes for the same input.
 */
import { f32ToF16Bits, roundAway } from './ggmlRounding';

/** Encodes `blocks` whole blocks of `x` (offset 0) into `out` (offset 0). */
export type Quantizer = (x: Float32Array, blocks: number, out: Uint8Array) => void;

const f = Math.fround;

function putHalf(out: Uint8Array, o: number, v: number): void {
  const h = f32ToF16Bits(v);
  out[o] = h & 255;
  out[o + 1] = h >>> 8;
}

/** The signed value of largest magnitude (the first one on ties), as ggml's symmetric types pick it. */
function signedAbsMax(x: Float32Array, p: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < n; j++) {
    const v = x[p + j];
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  return max;
}

function minMax(x: Float32Array, p: number, n: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = x[p + j];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Q8_0: d = absmax/127, q = roundf(x/d). */
export const quantizeQ8_0: Quantizer = (x, blocks, out) => {
  for (let i = 0, p = 0, o = 0; i < blocks; i++, p += 32, o += 34) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[p + j]));
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    putHalf(out, o, d);
    for (let j = 0; j < 32; j++) out[o + 2 + j] = roundAway(f(x[p + j] * id)) & 255;
  }
};

/** Q4_0 and Q5_0: d = max/-2^(bits-1) keeps the extreme value exactly representable. */
function quantizeSymmetric(x: Float32Array, blocks: number, out: Uint8Array, five: boolean): void {
  const size = five ? 22 : 18;
  const qs = five ? 6 : 2;
  const half = five ? 16 : 8;
  const top = five ? 31 : 15;
  const bias = f(half + 0.5);
  for (let i = 0, p = 0, o = 0; i < blocks; i++, p += 32, o += size) {
    const d = f(signedAbsMax(x, p, 32) / -half);
    const id = d ? f(1 / d) : 0;
    putHalf(out, o, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const a = Math.min(top, Math.trunc(f(f(x[p + j] * id) + bias)));
      const b = Math.min(top, Math.trunc(f(f(x[p + 16 + j] * id) + bias)));
      out[o + qs + j] = (a & 15) | ((b & 15) << 4);
      if (five) qh |= (((a & 16) >> 4) << j) | (((b & 16) >> 4) << (j + 16));
    }
    if (five) new DataView(out.buffer, out.byteOffset + o + 2, 4).setUint32(0, qh >>> 0, true);
  }
}

/** Q4_1 and Q5_1: d = (max - min)/(2^bits - 1) with the minimum stored as m. */
function quantizeAffine(x: Float32Array, blocks: number, out: Uint8Array, five: boolean): void {
  const size = five ? 24 : 20;
  const qs = five ? 8 : 4;
  const levels = five ? 31 : 15;
  for (let i = 0, p = 0, o = 0; i < blocks; i++, p += 32, o += size) {
    const [min, max] = minMax(x, p, 32);
    const d = f(f(max - min) / levels);
    const id = d ? f(1 / d) : 0;
    putHalf(out, o, d);
    putHalf(out, o + 2, min);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      // Q4_1 clamps to 15; Q5_1's reference does not clamp (the top level is exact there).
      let a = Math.trunc(f(f(f(x[p + j] - min) * id) + 0.5));
      let b = Math.trunc(f(f(f(x[p + 16 + j] - min) * id) + 0.5));
      if (five) {
        a &= 255;
        b &= 255;
      } else {
        a = Math.min(15, a);
        b = Math.min(15, b);
      }
      out[o + qs + j] = (a & 15) | ((b & 15) << 4);
      if (five) qh |= (((a & 16) >> 4) << j) | (((b & 16) >> 4) << (j + 16));
    }
    if (five) new DataView(out.buffer, out.byteOffset + o + 4, 4).setUint32(0, qh >>> 0, true);
  }
}

/** Q4_0 (see {@link quantizeSymmetric}). */
export const quantizeQ4_0: Quantizer = (x, n, out) => quantizeSymmetric(x, n, out, false);
/** Q5_0 (see {@link quantizeSymmetric}). */
export const quantizeQ5_0: Quantizer = (x, n, out) => quantizeSymmetric(x, n, out, true);
/** Q4_1 (see {@link quantizeAffine}). */
export const quantizeQ4_1: Quantizer = (x, n, out) => quantizeAffine(x, n, out, false);
/** Q5_1 (see {@link quantizeAffine}). */
export const quantizeQ5_1: Quantizer = (x, n, out) => quantizeAffine(x, n, out, true);
