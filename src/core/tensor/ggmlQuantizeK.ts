/**
 * Encoders for ggml's 256-element k-quant super-blocks Q2_K, Q3_K, Q4_K, Q5_K and Q6_K, following
 * the `quantize_row_*_ref` routines of ggml-quants.c in float32: per-sub-block scale searches
 * (see ggmlQuantSearch), scales quantized against the super-block's largest, then every value
 * re-rounded against the scale the decoder will actually see.
 */
import { f16Lookup } from './floatTables';
import type { Quantizer } from './ggmlQuantizeLegacy';
import { f32ToF16Bits, nearestInt } from './ggmlRounding';
import { GROUP_MAX_EPS, makeQ3Quants, makeQkx2Quants, makeQxQuants } from './ggmlQuantSearch';

const f = Math.fround;
const QK_K = 256;

/** Stores `v` as ggml_fp16 at `out[o]` and returns the value the decoder will read back. */
export function putHalf(out: Uint8Array, o: number, v: number): number {
  const h = f32ToF16Bits(v);
  out[o] = h & 255;
  out[o + 1] = h >>> 8;
  return f16Lookup()[h];
}

/** Q2_K: 16 groups of 16, 2-bit levels with 4-bit scale and min, absolute-error search. */
export const quantizeQ2_K: Quantizer = (x, blocks, out) => {
  const L = new Uint8Array(QK_K);
  const laux = new Uint8Array(16);
  const w = new Float32Array(16);
  const mins = new Float32Array(16);
  const scales = new Float32Array(16);
  const q4scale = 15;
  for (let i = 0, p = 0, o = 0; i < blocks; i++, p += QK_K, o += 84) {
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) w[l] = Math.abs(x[p + 16 * j + l]);
      scales[j] = makeQkx2Quants(16, 3, x, p + 16 * j, w, L, 16 * j, mins, j, laux, -0.5, f(0.1), 15, true);
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    let d = 0;
    let dmin = 0;
    if (maxScale > 0) {
      const iscale = f(q4scale / maxScale);
      for (let j = 0; j < 16; j++) out[o + j] = nearestInt(f(iscale * scales[j])) & 255;
      d = putHalf(out, o + 80, f(maxScale / q4scale));
    } else {
      out.fill(0, o, o + 16);
      putHalf(out, o + 80, 0);
    }
    if (maxMin > 0) {
      const iscale = f(q4scale / maxMin);
      for (let j = 0; j < 16; j++) out[o + j] |= (nearestInt(f(iscale * mins[j])) << 4) & 255;
      dmin = putHalf(out, o + 82, f(maxMin / q4scale));
    } else {
      putHalf(out, o + 82, 0);
    }
    for (let j = 0; j < 16; j++) {
      const dl = f(d * (out[o + j] & 15));
      if (!dl) continue;
      const dm = f(dmin * (out[o + j] >> 4));
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = Math.max(0, Math.min(3, nearestInt(f(f(x[p + 16 * j + ii] + dm) / dl))));
    }
    for (let j = 0; j < QK_K; j += 128) {
      for (let l = 0; l < 32; l++) out[o + 16 + j / 4 + l] = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6);
    }
  }
};

/** Q3_K: 16 groups of 16, signed 3-bit levels (low 2 bits + high-bit mask), 6-bit signed scales. */
export const quantizeQ3_K: Quantizer = (x, blocks, out) => {
  const L = new Int8Array(QK_K);
  const scales = new Float32Array(16);
  for (let i = 0, p = 0, o = 0; i < blocks; i++, p += QK_K, o += 110) {
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      scales[j] = makeQ3Quants(16, 4, x, p + 16 * j, L, 16 * j);
      const s = Math.abs(scales[j]);
      if (s > amax) {
        amax = s;
        maxScale = scales[j];
      }
    }
    const sc = o + 96;
    out.fill(0, sc, sc + 12);
    let d = 0;
    if (maxScale) {
      const iscale = f(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        const l = Math.max(-32, Math.min(31, (nearestInt(f(iscale * scales[j])) << 24) >> 24)) + 32;
        if (j < 8) out[sc + j] = l & 15;
        else out[sc + j - 8] |= (l & 15) << 4;
        out[sc + 8 + (j % 4)] |= (l >> 4) << (2 * (j >> 2));
      }
      d = putHalf(out, o + 108, f(1 / iscale));
    } else {
      putHalf(out, o + 108, 0);
    }
    finishQ3_K(x, p, out, o, d, L);
  }
};

/** Q3_K once its 6-bit scales and d are stored: every level re-rounded against them, then the hmask and 2-bit planes. */
export function finishQ3_K(x: Float32Array, p: number, out: Uint8Array, o: number, d: number, L: Int8Array): void {
  const sc = o + 96;
  for (let j = 0; j < 16; j++) {
    const low = j < 8 ? out[sc + j] & 15 : out[sc + j - 8] >> 4;
    const s = (low | (((out[sc + 8 + (j % 4)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
    const dl = f(d * s);
    if (!dl) continue;
    for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = Math.max(-4, Math.min(3, nearestInt(f(x[p + 16 * j + ii] / dl)))) + 4;
  }
  // hmask: bit k of byte m holds the high bit of element 32k + m.
  out.fill(0, o, o + 32);
  for (let j = 0; j < QK_K; j++) {
    if (L[j] > 3) {
      out[o + (j & 31)] |= 1 << (j >> 5);
      L[j] -= 4;
    }
  }
  for (let j = 0; j < QK_K; j += 128) {
    for (let l = 0; l < 32; l++) out[o + 32 + j / 4 + l] = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6);
  }
}

/** Packs 8 six-bit scales and mins into the 12 bytes Q4_K and Q5_K share (get_scale_min_k4's inverse). */
export function packScaleMin(out: Uint8Array, s: number, j: number, ls: number, lm: number): void {
  if (j < 4) {
    out[s + j] = ls;
    out[s + j + 4] = lm;
  } else {
    out[s + j + 4] = (ls & 15) | ((lm & 15) << 4);
    out[s + j - 4] |= (ls >> 4) << 6;
    out[s + j] |= (lm >> 4) << 6;
  }
}

/** get_scale_min_k4: the 6-bit scale and min of sub-block `j` from the 12 bytes at `b[s]`. */
export function scaleMin(b: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [b[s + j] & 63, b[s + j + 4] & 63];
  return [(b[s + j + 4] & 15) | ((b[s + j - 4] >> 6) << 4), (b[s + j + 4] >> 4) | ((b[s + j] >> 6) << 4)];
}

/**
 * The common part of Q4_K and Q5_K: 8 groups of 32 searched with make_qkx2_quants (weights
 * rms + |x|), 6-bit scales and mins against the super-block's largest; levels end in `L`.
 */
function affineSuperBlock(x: Float32Array, p: number, out: Uint8Array, o: number, nmax: number, rmin: number, nstep: number, L: Uint8Array, scratch: AffineScratch): void {
  const { w, laux, mins, scales } = scratch;
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = f(sumX2 + f(x[p + 32 * j + l] * x[p + 32 * j + l]));
    const avX = f(Math.sqrt(f(sumX2 / 32)));
    for (let l = 0; l < 32; l++) w[l] = f(avX + Math.abs(x[p + 32 * j + l]));
    scales[j] = makeQkx2Quants(32, nmax, x, p + 32 * j, w, L, 32 * j, mins, j, laux, rmin, f(0.1), nstep, false);
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const invScale = maxScale > 0 ? f(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? f(63 / maxMin) : 0;
  out.fill(0, o + 4, o + 16);
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(f(invScale * scales[j])) & 255);
    const lm = Math.min(63, nearestInt(f(invMin * mins[j])) & 255);
    packScaleMin(out, o + 4, j, ls, lm);
  }
  const d = putHalf(out, o, f(maxScale / 63));
  const dmin = putHalf(out, o + 2, f(maxMin / 63));
  requantizeAffine(x, p, out, o, d, dmin, nmax, L);
}

/** Re-rounds every value of a Q4_K/Q5_K super-block against the scales and mins as stored. */
export function requantizeAffine(x: Float32Array, p: number, out: Uint8Array, o: number, d: number, dmin: number, nmax: number, L: Uint8Array): void {
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMin(out, o + 4, j);
    const dl = f(d * sc);
    if (!dl) continue;
    const dm = f(dmin * m);
    for (let ii = 0; ii < 32; ii++) L[32 * j + ii] = Math.max(0, Math.min(nmax, nearestInt(f(f(x[p + 32 * j + ii] + dm) / dl))));
  }
}

interface AffineScratch {
  readonly w: Float32Array;
  readonly laux: Uint8Array;
  readonly mins: Float32Array;
  readonly scales: Float32Array;
}

function affineScratch(): AffineScratch {
  return { w: new Float32Array(32), laux: new Uint8Array(32), mins: new Float32Array(8), scales: new Float32Array(8) };
}

/** Q4_K: 8 groups of 32, 4-bit levels, 6-bit scales and mins. */
export const quantizeQ4_K: Quantizer = (x, blocks, out) => {
  const L = new Uint8Array(QK_K);
  const scratch = affineScratch();
  for (let i = 0, p = 0, o = 0; i < blocks; i++, p += QK_K, o += 144) {
    affineSuperBlock(x, p, out, o, 15, -1, 20, L, scratch);
    packQ4_K(L, out, o);
  }
};

/** Q4_K's level plane: two 4-bit levels per byte, 32 bytes per pair of sub-blocks. */
export function packQ4_K(L: Uint8Array, out: Uint8Array, o: number): void {
  for (let j = 0, q = o + 16; j < QK_K; j += 64, q += 32) {
    for (let l = 0; l < 32; l++) out[q + l] = L[j + l] | (L[j + l + 32] << 4);
  }
}

/** Q5_K: Q4_K's layout plus a high-bit plane. */
export const quantizeQ5_K: Quantizer = (x, blocks, out) => {
  const L = new Uint8Array(QK_K);
  const scratch = affineScratch();
  for (let i = 0, p = 0, o = 0; i < blocks; i++, p += QK_K, o += 176) {
    affineSuperBlock(x, p, out, o, 31, -0.5, 15, L, scratch);
    packQ5_K(L, out, o);
  }
};

/** Q5_K's level planes: the low nibbles as Q4_K's, the fifth bits in a 32-byte mask. */
export function packQ5_K(L: Uint8Array, out: Uint8Array, o: number): void {
  const qh = o + 16;
  out.fill(0, qh, qh + 32);
  let m1 = 1;
  let m2 = 2;
  for (let n = 0, ql = o + 48; n < QK_K; n += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
    for (let j = 0; j < 32; j++) {
      let l1 = L[n + j];
      let l2 = L[n + j + 32];
      if (l1 > 15) {
        l1 -= 16;
        out[qh + j] |= m1;
      }
      if (l2 > 15) {
        l2 -= 16;
        out[qh + j] |= m2;
      }
      out[ql + j] = l1 | (l2 << 4);
    }
  }
}

/** Q6_K: 16 groups of 16, 6-bit levels, int8 scales. */
export const quantizeQ6_K: Quantizer = (x, blocks, out) => {
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(16);
  for (let i = 0, p = 0, o = 0; i < blocks; i++, p += QK_K, o += 210) encodeQ6_KBlock(x, p, out, o, L, scales);
};

/**
 * One Q6_K block of the 256 values at x[p…]: a make_qx_quants scale per group of 16 (weighted by
 * `importance[at…]` when given, as quantize_row_q6_K_impl does), then the shared packing.
 */
export function encodeQ6_KBlock(x: Float32Array, p: number, out: Uint8Array, o: number, L: Uint8Array, scales: Float32Array, importance?: Float32Array, at = 0): void {
  let maxScale = 0;
  let maxAbs = 0;
  for (let ib = 0; ib < 16; ib++) {
    const s = makeQxQuants(16, 32, x, p + 16 * ib, L, 16 * ib, importance, at + 16 * ib);
    scales[ib] = s;
    if (Math.abs(s) > maxAbs) {
      maxAbs = Math.abs(s);
      maxScale = s;
    }
  }
  if (maxAbs < GROUP_MAX_EPS) {
    out.fill(0, o, o + 210);
    return;
  }
  finishQ6_K(x, p, out, o, L, scales, maxScale);
}

/** Q6_K after the sub-block search: int8 scales against the largest, levels re-rounded and packed. */
function finishQ6_K(x: Float32Array, p: number, out: Uint8Array, o: number, L: Uint8Array, scales: Float32Array, maxScale: number): void {
  const iscale = f(-128 / maxScale);
  const d = putHalf(out, o + 208, f(1 / iscale));
  for (let ib = 0; ib < 16; ib++) out[o + 192 + ib] = Math.min(127, nearestInt(f(iscale * scales[ib]))) & 255;
  for (let j = 0; j < 16; j++) {
    const dl = f(d * ((out[o + 192 + j] << 24) >> 24));
    if (!dl) continue;
    for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = Math.max(-32, Math.min(31, nearestInt(f(x[p + 16 * j + ii] / dl)))) + 32;
  }
  for (let j = 0, ql = o, qh = o + 128; j < QK_K; j += 128, ql += 64, qh += 32) {
    for (let l = 0; l < 32; l++) {
      const a = L[j + l];
      const b = L[j + l + 32];
      const c = L[j + l + 64];
      const e = L[j + l + 96];
      out[ql + l] = (a & 15) | ((c & 15) << 4);
      out[ql + l + 32] = (b & 15) | ((e & 15) << 4);
      out[qh + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
    }
  }
}
