import { CancelledError } from './CancelledError';
import { assertSquare, type Matrix, type MatrixLike } from './Matrix';

/**
 * L⁻¹ for a lower-triangular L (entries above the diagonal are ignored), as a new matrix. The
 * result is lower triangular; only its lower triangle is computed (n³/6 multiply-adds).
 */
export function invertLower(L: MatrixLike): Matrix {
  const n = assertSquare(L, 'triangular factor');
  const X = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) X[i * n + j] = L.data[i * n + j];
  invertLowerInPlace(X, n);
  return { rows: n, cols: n, data: X };
}

/**
 * Overwrites the lower-triangular row-major `n × n` array with its inverse and zeroes the strict
 * upper triangle, with four rows of scratch space: the d×d matrices of wide layers are too large
 * to hold twice. Rows are produced four at a time so each finished row is streamed once per four
 * rows. `isCancelled` is polled every 32 rows.
 *
 * @throws {CancelledError} when `isCancelled` returns true.
 */
export function invertLowerInPlace(L: Float64Array, n: number, isCancelled?: () => boolean): void {
  const t = new Float64Array(4 * n);
  // Row i of L⁻¹ is (e_i − Σ_{k<i} L_ik · row k of L⁻¹) / L_ii, and row k of L⁻¹ is zero past
  // column k. Rows above the block already hold L⁻¹; the block's rows still hold L until written.
  for (let i0 = 0; i0 < n; i0 += 4) {
    if (isCancelled !== undefined && i0 % 32 === 0 && isCancelled()) throw new CancelledError('triangular inverse cancelled');
    const count = Math.min(4, n - i0);
    t.fill(0);
    for (let a = 0; a < count; a++) t[a * n + i0 + a] = 1;
    for (let k = 0; k < i0; k++) {
      const rk = k * n;
      const l0 = L[i0 * n + k];
      const l1 = count > 1 ? L[(i0 + 1) * n + k] : 0;
      const l2 = count > 2 ? L[(i0 + 2) * n + k] : 0;
      const l3 = count > 3 ? L[(i0 + 3) * n + k] : 0;
      for (let j = 0; j <= k; j++) {
        const x = L[rk + j];
        t[j] -= l0 * x;
        t[n + j] -= l1 * x;
        t[2 * n + j] -= l2 * x;
        t[3 * n + j] -= l3 * x;
      }
    }
    // Inside the block, row a depends on the finished rows before it.
    for (let a = 0; a < count; a++) {
      const i = i0 + a, ri = i * n, ta = a * n;
      for (let b = 0; b < a; b++) {
        const l = L[ri + i0 + b];
        const tb = b * n;
        for (let j = 0; j <= i0 + b; j++) t[ta + j] -= l * t[tb + j];
      }
      const inv = 1 / L[ri + i];
      if (!Number.isFinite(inv)) throw new RangeError(`triangular factor is singular at ${i}`);
      for (let j = 0; j <= i; j++) t[ta + j] *= inv;
    }
    for (let a = 0; a < count; a++) {
      const ri = (i0 + a) * n, ta = a * n;
      for (let j = 0; j <= i0 + a; j++) L[ri + j] = t[ta + j];
      for (let j = i0 + a + 1; j < n; j++) L[ri + j] = 0;
    }
  }
}
