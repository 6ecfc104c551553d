import { assertSquare, type Matrix, type MatrixLike } from './Matrix';
import { CancelledError } from './CancelledError';
import { NotPositiveDefiniteError } from './NotPositiveDefiniteError';

/**
 * Lower Cholesky factor L of a symmetric positive definite A (A = L·Lᵀ), as a new matrix with
 * zeros above the diagonal. Only the lower triangle of A is read.
 *
 * @throws {NotPositiveDefiniteError} when a pivot is ≤ 0 or not finite.
 */
export function cholesky(a: MatrixLike): Matrix {
  const n = assertSquare(a, 'Cholesky input');
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) L[i * n + j] = a.data[i * n + j];
  choleskyInPlace(L, n);
  return { rows: n, cols: n, data: L };
}

/**
 * Overwrites the lower triangle of the row-major `n × n` array with its Cholesky factor and
 * zeroes the strict upper triangle. Row-oriented (Cholesky–Banachiewicz): every entry is an inner
 * product of two contiguous row prefixes. Rows are produced four at a time so that each earlier
 * row is streamed from memory once per four rows, not once per row: for wide layers the factor
 * does not fit in cache and the loop is bound by those reads. `isCancelled` is polled every 32
 * rows, because the n³/6 work of a wide layer takes seconds.
 *
 * @throws {NotPositiveDefiniteError} when a pivot is ≤ 0 or not finite.
 * @throws {CancelledError} when `isCancelled` returns true.
 */
export function choleskyInPlace(L: Float64Array, n: number, isCancelled?: () => boolean): void {
  for (let i0 = 0; i0 < n; i0 += 4) {
    if (isCancelled !== undefined && i0 % 32 === 0 && isCancelled()) throw new CancelledError('Cholesky factorization cancelled');
    const count = Math.min(4, n - i0);
    if (count === 4) {
      const r0 = i0 * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
      // Columns left of the 4-row block: four inner products against the same row j.
      for (let j = 0; j < i0; j++) {
        const rj = j * n;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = 0; k < j; k++) {
          const l = L[rj + k];
          s0 += L[r0 + k] * l;
          s1 += L[r1 + k] * l;
          s2 += L[r2 + k] * l;
          s3 += L[r3 + k] * l;
        }
        const inv = 1 / L[rj + j];
        L[r0 + j] = (L[r0 + j] - s0) * inv;
        L[r1 + j] = (L[r1 + j] - s1) * inv;
        L[r2 + j] = (L[r2 + j] - s2) * inv;
        L[r3 + j] = (L[r3 + j] - s3) * inv;
      }
    }
    // The rest of each row (all of it for a short final block) one entry at a time.
    for (let i = i0; i < i0 + count; i++) {
      const ri = i * n;
      for (let j = count === 4 ? i0 : 0; j <= i; j++) {
        const rj = j * n;
        let s = 0;
        for (let k = 0; k < j; k++) s += L[ri + k] * L[rj + k];
        const v = L[ri + j] - s;
        if (i === j) {
          if (!(v > 0) || !Number.isFinite(v)) throw new NotPositiveDefiniteError(i, v);
          L[ri + i] = Math.sqrt(v);
        } else {
          L[ri + j] = v / L[rj + j];
        }
      }
      for (let j = i + 1; j < n; j++) L[ri + j] = 0;
    }
  }
}
