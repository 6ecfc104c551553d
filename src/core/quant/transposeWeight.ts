import type { QuantizedWeight } from './QuantScheme';

/**
 * Transposes a row-major [rows, cols] array into a new array of the same type. Our canonical
 * weight is W [out, in] (PyTorch and GPTQ convention, groups along `in`); an ONNX `MatMul`
 * initializer B is [in, out]. So W = transposeWeight(B, in, out) and B = transposeWeight(W, out, in).
 */
export function transposeWeight<T extends Float32Array | Float64Array | Int8Array | Uint8Array>(data: T, rows: number, cols: number): T {
  if (data.length !== rows * cols) throw new RangeError(`array has ${data.length} values, expected ${rows}×${cols}`);
  const out = new (data.constructor as new (n: number) => T)(rows * cols);
  const T = 32;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(i0 + T, rows);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(j0 + T, cols);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = data[i * cols + j];
    }
  }
  return out;
}

/** Codes, scales and zero points in ONNX `MatMul` orientation: blocks run along axis 0 (`in`). */
export interface InOutQuantized {
  /** Codes [in, out]. */
  readonly codes: Int8Array | Uint8Array;
  /** Scales [groupsPerRow, out] (length 1 for per-tensor). */
  readonly scales: Float32Array;
  /** Zero points [groupsPerRow, out] (length 1 for per-tensor). */
  readonly zeroPoints: Int8Array | Uint8Array;
}

/**
 * Re-lays a quantized W [out, in] for an ONNX `MatMul` initializer [in, out], as
 * `DequantizeLinear` with `axis = 0` and `block_size = groupSize` (or `axis = 1` per channel)
 * consumes it. `MatMulNBits` wants the canonical [out, in] layout and needs no transpose.
 */
export function toInOutLayout(q: QuantizedWeight): InOutQuantized {
  const { rows, cols, groupsPerRow, granularity } = q.layout;
  if (granularity === 'tensor') return { codes: transposeWeight(q.codes, rows, cols), scales: q.scales, zeroPoints: q.zeroPoints };
  return {
    codes: transposeWeight(q.codes, rows, cols),
    scales: transposeWeight(q.scales, rows, groupsPerRow),
    zeroPoints: transposeWeight(q.zeroPoints, rows, groupsPerRow),
  };
}
