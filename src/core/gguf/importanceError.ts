/**
 * The error an imatrix quantizer minimizes, measured on whole tensors: Σ_r Σ_j imp_j (W_rj − Ŵ_rj)²
 * over Σ_r Σ_j imp_j W_rj², where imp_j = mean x_j² over calibration rows. With H = XᵀX this is
 * the diagonal part of the layer error tr(ΔW H ΔWᵀ) / tr(W H Wᵀ).
 */
import type { GgmlType } from '../tensor/ggmlBlocks';
import { encodeGgml } from '../tensor/ggmlQuantizers';

/** Importance-weighted relative squared error of `approx` against `exact` (rows of `importance.length`). */
export function importanceError(exact: Float32Array, approx: Float32Array, importance: Float32Array): number {
  const n = importance.length;
  let err = 0;
  let base = 0;
  for (let i = 0; i < exact.length; i++) {
    const w = importance[i % n];
    const d = exact[i] - approx[i];
    err += w * d * d;
    base += w * exact[i] * exact[i];
  }
  return base > 0 ? err / base : 0;
}

/** `bytes` of `type` decoded to float32 (`count` values). */
export function decodeGgml(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  if (!type.dequantize) throw new Error(`ggml type ${type.name} cannot be decoded`);
  type.dequantize(bytes, count / type.blockSize, out);
  return out;
}

/** The weighted error of `type` on `w` rounded to nearest and with the importance, from the same values. */
export function compareImportance(type: GgmlType, w: Float32Array, weighted: Uint8Array, importance: Float32Array): { readonly rtn: number; readonly importance: number } {
  return {
    rtn: importanceError(w, decodeGgml(type, encodeGgml(type, w), w.length), importance),
    importance: importanceError(w, decodeGgml(type, weighted, w.length), importance),
  };
}
