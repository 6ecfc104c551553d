/**
 * Importance-weighted (imatrix) encoders for Q3_K, Q4_K, Q5_K, Q6_K, Q4_0, Q5_0, Q4_1 and Q5_1, following the
 * `quantize_row_*_impl` routines ggml-quants.c runs when llama-quantize is given an importance
 * matrix: each sub-block's scale (and min) is the weighted least-squares choice under error
 * weights imp_j · sqrt(σ² + x_j²) (Q6_K: imp_j alone), and the super-block quantizes its scales
 * with make_qp_quants / make_qx_quants weighted by each sub-block's summed weight. Everything is
 * float32 in the C code's order, so the bytes equal llama.cpp's for the same row and importance.
 */
import { encodeQ6_KBlock, finishQ3_K, packQ4_K, packQ5_K, packScaleMin, putHalf, requantizeAffine } from './ggmlQuantizeK';
import { makeQkx2Quants, makeQpQuants, makeQxQuants } from './ggmlQuantSearch';

/**
 * Encodes `blocks` whole blocks of `x` (offset 0, whole rows of `importance.length` values) into
 * `out`, weighting column j of every row by `importance[j]` (mean x_j² over calibration rows).
 */
export type ImportanceQuantizer = (x: Float32Array, blocks: number, out: Uint8Array, importance: Float32Array) => void;

const f = Math.fround;

/**
 * ggml's weights of a block's n values, w_l = imp_l · √(σ² + x_l²), in float32 as its C code
 * computes them; returns their float32 sum, which the k-quants' scale search needs.
 */
function importanceWeights(w: Float32Array, n: number, importance: Float32Array, at: number, x: Float32Array, p: number, sigma2: number): number {
  let sum = 0;
  for (let l = 0; l < n; l++) {
    const v = x[p + l];
    w[l] = f(importance[at + l] * f(Math.sqrt(f(sigma2 + f(v * v)))));
    sum = f(sum + w[l]);
  }
  return sum;
}
const QK_K = 256;

/** Σ x² over `x[p .. p+n)` in float32, in order. */
function sumSquares(x: Float32Array, p: number, n: number): number {
  let s = 0;
  for (let l = 0; l < n; l++) s = f(s + f(x[p + l] * x[p + l]));
  return s;
}

/** Calls `row` once per row of `importance.length` values, with the row's first value and first block. */
function byRow(blocks: number, blockSize: number, importance: Float32Array, row: (p: number, block: number, blocksPerRow: number) => void): void {
  const n = importance.length;
  if (n % blockSize !== 0) throw new Error(`importance of ${n} columns does not split into blocks of ${blockSize}`);
  const perRow = n / blockSize;
  if (blocks % perRow !== 0) throw new Error(`${blocks * blockSize} values are not whole rows of ${n} columns`);
  for (let b = 0; b < blocks; b += perRow) row(b * blockSize, b, perRow);
}

/** Q4_K and Q5_K (quantize_row_q4_K_impl / q5_K_impl): make_qkx3_quants per group of 32, make_qp_quants on the scales and mins. */
function affineImportance(nmax: number, typeSize: number, pack: (L: Uint8Array, out: Uint8Array, o: number) => void): ImportanceQuantizer {
  return (x, blocks, out, importance) => {
    const L = new Uint8Array(QK_K);
    const laux = new Uint8Array(32);
    const w = new Float32Array(32);
    const sw = new Float32Array(8);
    const mins = new Float32Array(8);
    const scales = new Float32Array(8);
    const Ls = new Uint8Array(8);
    const Lm = new Uint8Array(8);
    byRow(blocks, QK_K, importance, (start, first, perRow) => {
      for (let i = 0; i < perRow; i++) {
        const p = start + QK_K * i;
        const o = (first + i) * typeSize;
        const sigma2 = f(f(2 * sumSquares(x, p, QK_K)) / QK_K);
        for (let j = 0; j < 8; j++) {
          sw[j] = importanceWeights(w, 32, importance, QK_K * i + 32 * j, x, p + 32 * j, sigma2);
          // make_qkx3_quants with weights is make_qkx2_quants' loop with ggml's imatrix settings.
          scales[j] = makeQkx2Quants(32, nmax, x, p + 32 * j, w, L, 32 * j, mins, j, laux, f(-0.9), f(0.05), 36, false);
        }
        const dBlock = makeQpQuants(8, 63, scales, Ls, sw);
        const mBlock = makeQpQuants(8, 63, mins, Lm, sw);
        out.fill(0, o + 4, o + 16);
        for (let j = 0; j < 8; j++) packScaleMin(out, o + 4, j, Ls[j], Lm[j]);
        const d = putHalf(out, o, dBlock);
        const dmin = putHalf(out, o + 2, mBlock);
        requantizeAffine(x, p, out, o, d, dmin, nmax, L);
        pack(L, out, o);
      }
    });
  };
}

/** Q4_K with importance. */
export const quantizeQ4_KImportance: ImportanceQuantizer = affineImportance(15, 144, packQ4_K);
/** Q5_K with importance. */
export const quantizeQ5_KImportance: ImportanceQuantizer = affineImportance(31, 176, packQ5_K);

/** Q6_K (quantize_row_q6_K_impl): make_qx_quants per group of 16 weighted by the importance itself. */
export const quantizeQ6_KImportance: ImportanceQuantizer = (x, blocks, out, importance) => {
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(16);
  byRow(blocks, QK_K, importance, (start, first, perRow) => {
    for (let i = 0; i < perRow; i++) {
      encodeQ6_KBlock(x, start + QK_K * i, out, (first + i) * 210, L, scales, importance, QK_K * i);
    }
  });
};

/** Q3_K (quantize_row_q3_K_impl): make_qx_quants per group of 16, then on the 16 scales weighted by each group's summed weight. */
export const quantizeQ3_KImportance: ImportanceQuantizer = (x, blocks, out, importance) => {
  const L = new Int8Array(QK_K);
  const w = new Float32Array(16);
  const sw = new Float32Array(16);
  const scales = new Float32Array(16);
  const Ls = new Uint8Array(16);
  byRow(blocks, QK_K, importance, (start, first, perRow) => {
    for (let i = 0; i < perRow; i++) {
      const p = start + QK_K * i;
      const o = (first + i) * 110;
      const sigma2 = f(f(2 * sumSquares(x, p, QK_K)) / QK_K);
      for (let j = 0; j < 16; j++) {
        sw[j] = importanceWeights(w, 16, importance, QK_K * i + 16 * j, x, p + 16 * j, sigma2);
        scales[j] = makeQxQuants(16, 4, x, p + 16 * j, L, 16 * j, w, 0);
      }
      const sc = o + 96;
      out.fill(0, sc, sc + 12);
      const dBlock = makeQxQuants(16, 32, scales, 0, Ls, 0, sw, 0);
      for (let j = 0; j < 16; j++) {
        const l = Ls[j];
        if (j < 8) out[sc + j] = l & 15;
        else out[sc + j - 8] |= (l & 15) << 4;
        out[sc + 8 + (j % 4)] |= (l >> 4) << (2 * (j >> 2));
      }
      finishQ3_K(x, p, out, o, putHalf(out, o + 108, dBlock), L);
    }
  });
};

/** Q4_0 (quantize_row_q4_0_impl): make_qx_quants per block of 32 with σ² over the whole row. */
export const quantizeQ4_0Importance: ImportanceQuantizer = (x, blocks, out, importance) => {
  const L = new Uint8Array(32);
  const w = new Float32Array(32);
  const n = importance.length;
  byRow(blocks, 32, importance, (start, first, perRow) => {
    const sigma2 = f(sumSquares(x, start, n) / n);
    for (let ib = 0; ib < perRow; ib++) {
      const p = start + 32 * ib;
      const o = (first + ib) * 18;
      importanceWeights(w, 32, importance, 32 * ib, x, p, sigma2);
      putHalf(out, o, makeQxQuants(32, 8, x, p, L, 0, w, 0));
      for (let j = 0; j < 16; j++) out[o + 2 + j] = L[j] | (L[j + 16] << 4);
    }
  });
};

/** Q5_0 (quantize_row_q5_0_impl): Q4_0's search with 16 levels a side, the fifth bits in qh. */
export const quantizeQ5_0Importance: ImportanceQuantizer = (x, blocks, out, importance) => {
  const L = new Uint8Array(32);
  const w = new Float32Array(32);
  const n = importance.length;
  byRow(blocks, 32, importance, (start, first, perRow) => {
    const sigma2 = f(sumSquares(x, start, n) / n);
    for (let ib = 0; ib < perRow; ib++) {
      const p = start + 32 * ib;
      const o = (first + ib) * 22;
      importanceWeights(w, 32, importance, 32 * ib, x, p, sigma2);
      putHalf(out, o, makeQxQuants(32, 16, x, p, L, 0, w, 0));
      let qh = 0;
      for (let j = 0; j < 16; j++) {
        out[o + 6 + j] = (L[j] & 15) | ((L[j + 16] & 15) << 4);
        qh |= ((L[j] & 16) >> 4) << j;
        qh |= ((L[j + 16] & 16) >> 4) << (j + 16);
      }
      new DataView(out.buffer, out.byteOffset + o + 2, 4).setUint32(0, qh >>> 0, true);
    }
  });
};

/**
 * Q4_1 and Q5_1 (quantize_row_q4_1_impl / q5_1_impl): make_qkx3_quants per block of 32 with σ²
 * over the row; the levels are the search's own (not re-rounded against the stored halves).
 */
function affineLegacyImportance(five: boolean): ImportanceQuantizer {
  const size = five ? 24 : 20;
  const qs = five ? 8 : 4;
  return (x, blocks, out, importance) => {
    const L = new Uint8Array(32);
    const laux = new Uint8Array(32);
    const w = new Float32Array(32);
    const min = new Float32Array(1);
    const n = importance.length;
    byRow(blocks, 32, importance, (start, first, perRow) => {
      const sigma2 = f(sumSquares(x, start, n) / n);
      for (let ib = 0; ib < perRow; ib++) {
        const p = start + 32 * ib;
        const o = (first + ib) * size;
        importanceWeights(w, 32, importance, 32 * ib, x, p, sigma2);
        const d = makeQkx2Quants(32, five ? 31 : 15, x, p, w, L, 0, min, 0, laux, f(-0.9), f(0.05), 36, false);
        putHalf(out, o, d);
        putHalf(out, o + 2, -min[0]);
        let qh = 0;
        for (let j = 0; j < 16; j++) {
          out[o + qs + j] = (L[j] & 15) | ((L[j + 16] & 15) << 4);
          qh |= ((L[j] & 16) >> 4) << j;
          qh |= ((L[j + 16] & 16) >> 4) << (j + 16);
        }
        if (five) new DataView(out.buffer, out.byteOffset + o + 4, 4).setUint32(0, qh >>> 0, true);
      }
    });
  };
}

/** Q4_1 with importance. */
export const quantizeQ4_1Importance: ImportanceQuantizer = affineLegacyImportance(false);
/** Q5_1 with importance. */
export const quantizeQ5_1Importance: ImportanceQuantizer = affineLegacyImportance(true);

/** The importance encoders by ggml type name; the other types ignore importance, as llama.cpp's Q8_0 does. */
export const IMPORTANCE_QUANTIZERS: ReadonlyMap<string, ImportanceQuantizer> = new Map([
  ['Q3_K', quantizeQ3_KImportance], ['Q4_K', quantizeQ4_KImportance], ['Q5_K', quantizeQ5_KImportance],
  ['Q6_K', quantizeQ6_KImportance], ['Q4_0', quantizeQ4_0Importance], ['Q5_0', quantizeQ5_0Importance],
  ['Q4_1', quantizeQ4_1Importance], ['Q5_1', quantizeQ5_1Importance],
]);
