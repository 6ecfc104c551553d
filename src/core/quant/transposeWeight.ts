import type { QuantizedWeight } from './QuantScheme';

/**
 * Transposes a row-major [rows, cols] array into a new array of the same type. Our canonical
 * weight is W [out, in] (PyTorch and GPTQ convention, groups along `in`); an ONNX `MatMul`
 * initializer B is [in, out]. So W = transposeWeight(B, in, out) and B = transposeWeight(W, out, in).
 * With `into` (same type and length, not sharing memory with `data`) the result is written there.
 */
export function transposeWeight<T extends Float32Array | Float64Array | Int8Array | Uint8Array>(data: T, rows: number, cols: number, into?: T): T {
  if (data.length !== rows * cols) throw new RangeError(`array has ${data.length} values, expected ${rows}×${cols}`);
  if (into && (into.length !== data.length || into.constructor !== data.constructor || into.buffer === data.buffer)) throw new RangeError('the transpose needs a separate array of the same type and length');
  const out = into ?? new (data.constructor as new (n: number) => T)(rows * cols);
  // Moving bit patterns through one view type per element size keeps each loop monomorphic: one
  // generic loop that sees four array types runs several times slower on all of them.
  if (data.BYTES_PER_ELEMENT === 1) tile8(new Uint8Array(data.buffer, data.byteOffset, data.length), new Uint8Array(out.buffer, out.byteOffset, out.length), rows, cols);
  else if (data.BYTES_PER_ELEMENT === 4 && data.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) tile32(new Int32Array(data.buffer, data.byteOffset, data.length), new Int32Array(out.buffer, out.byteOffset, out.length), rows, cols);
  else transposeBlocked64(data, out, rows, cols);
  return out;
}

/**
 * out = dataᵀ for a row-major [rows, cols] `data` of bytes, in tiles small enough for the L1 cache.
 * {@link tile32} repeats this loop on purpose: one function per array kind keeps each loop monomorphic.
 */
function tile8(data: Uint8Array, out: Uint8Array, rows: number, cols: number): void {
  const T = 64;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(i0 + T, rows);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(j0 + T, cols);
      for (let j = j0; j < j1; j++) {
        const o = j * rows;
        for (let i = i0; i < i1; i++) out[o + i] = data[i * cols + j];
      }
    }
  }
}

/** {@link tile8} for 4-byte elements. */
function tile32(data: Int32Array, out: Int32Array, rows: number, cols: number): void {
  const T = 32;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(i0 + T, rows);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(j0 + T, cols);
      for (let j = j0; j < j1; j++) {
        const o = j * rows;
        for (let i = i0; i < i1; i++) out[o + i] = data[i * cols + j];
      }
    }
  }
}

/** The generic fallback: 8-byte elements, or 4-byte ones not aligned for an Int32Array view. */
function transposeBlocked64(data: Float32Array | Float64Array | Int8Array | Uint8Array, out: Float32Array | Float64Array | Int8Array | Uint8Array, rows: number, cols: number): void {
  const T = 32;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(i0 + T, rows);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(j0 + T, cols);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = data[i * cols + j];
    }
  }
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
