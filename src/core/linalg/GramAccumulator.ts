import type { Matrix } from './Matrix';

/**
 * Accumulates the Gram matrix H = XᵀX of a `rows × d` activation matrix that arrives in row
 * chunks (calibration batches), in Float64. Only the upper triangle is updated per chunk
 * (rows·d²/2 multiply-adds instead of rows·d²); {@link GramAccumulator.matrix} mirrors it.
 */
export class GramAccumulator {
  /** Width d of each row. */
  readonly d: number;
  private readonly upper: Float64Array;
  private rowsSeen = 0;

  constructor(d: number) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid Gram width ${d}`);
    this.d = d;
    this.upper = new Float64Array(d * d);
  }

  /** Number of rows accumulated so far. */
  get rowCount(): number {
    return this.rowsSeen;
  }

  /** H += chunkᵀ·chunk for a row-major chunk of `chunk.length / d` rows. */
  addRows(chunk: Float32Array | Float64Array): void {
    const d = this.d;
    if (d === 0) return;
    if (chunk.length % d !== 0) throw new RangeError(`chunk of ${chunk.length} values is not a whole number of rows of ${d}`);
    accumulateUpper(this.upper, chunk, chunk.length / d, d);
    this.rowsSeen += chunk.length / d;
  }

  /** Adds an already accumulated Gram matrix (for example one ONNX Runtime computed) and its row count. */
  addGram(H: Float32Array | Float64Array, rows: number): void {
    const d = this.d;
    if (H.length !== d * d) throw new RangeError(`Gram matrix has ${H.length} values, expected ${d}×${d}`);
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) this.upper[i * d + j] += H[i * d + j];
    this.rowsSeen += rows;
  }

  /** The full symmetric H as a new matrix. */
  matrix(): Matrix {
    const d = this.d;
    const out = Float64Array.from(this.upper);
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) out[j * d + i] = out[i * d + j];
    return { rows: d, cols: d, data: out };
  }
}

/**
 * H += chunkᵀ·chunk on a full symmetric `d × d` Float64 array (both triangles kept in sync),
 * for callers that hold H directly rather than through a {@link GramAccumulator}.
 */
export function accumulateGram(H: Float64Array, chunk: Float32Array | Float64Array, d: number): void {
  if (H.length !== d * d) throw new RangeError(`Gram matrix has ${H.length} values, expected ${d}×${d}`);
  if (d === 0) return;
  if (chunk.length % d !== 0) throw new RangeError(`chunk of ${chunk.length} values is not a whole number of rows of ${d}`);
  const delta = new Float64Array(d * d);
  accumulateUpper(delta, chunk, chunk.length / d, d);
  for (let i = 0; i < d; i++) {
    H[i * d + i] += delta[i * d + i];
    for (let j = i + 1; j < d; j++) {
      const v = delta[i * d + j];
      H[i * d + j] += v;
      H[j * d + i] += v;
    }
  }
}

function accumulateUpper(U: Float64Array, x: Float32Array | Float64Array, rows: number, d: number): void {
  // Four rows per sweep: each row i of U is read and written once per four rank-1 updates.
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    const x0 = r * d, x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
    for (let i = 0; i < d; i++) {
      const a0 = x[x0 + i], a1 = x[x1 + i], a2 = x[x2 + i], a3 = x[x3 + i];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      const ui = i * d;
      for (let j = i; j < d; j++) U[ui + j] += a0 * x[x0 + j] + a1 * x[x1 + j] + a2 * x[x2 + j] + a3 * x[x3 + j];
    }
  }
  for (; r < rows; r++) {
    const x0 = r * d;
    for (let i = 0; i < d; i++) {
      const a0 = x[x0 + i];
      if (a0 === 0) continue;
      const ui = i * d;
      for (let j = i; j < d; j++) U[ui + j] += a0 * x[x0 + j];
    }
  }
}
