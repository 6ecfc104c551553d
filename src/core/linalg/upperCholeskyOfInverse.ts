import { cholesky, choleskyInPlace } from './cholesky';
import { choleskyInverse } from './choleskyInverse';
import { invertLowerInPlace } from './invertLower';
import { assertSquare, transpose, type Matrix, type MatrixLike } from './Matrix';

/**
 * The upper-triangular U with positive diagonal and Uᵀ·U = H⁻¹, for an SPD H: GPTQ's and
 * SparseGPT's `Hinv` (the paper's "Cholesky(H⁻¹)ᵀ"). Row q of U, scaled by 1/U_qq, is the OBS
 * update that column q's error spreads onto the columns after q once all earlier columns are
 * eliminated. Callers damp H first; this function does not.
 *
 * Computed without forming H⁻¹: with J the reversal permutation and J·H·J = L′·L′ᵀ,
 * H⁻¹ = (J·L′⁻ᵀ·J)·(J·L′⁻¹·J), and J·L′⁻¹·J is upper triangular with a positive diagonal, so by
 * uniqueness it is U. That is one Cholesky and one triangular inverse (n³/3 multiply-adds)
 * instead of Cholesky, inverse and a second Cholesky (2n³/3), it skips the rounding of an
 * explicit inverse, and since J·M·J of a row-major square matrix is its storage reversed, it
 * needs a single n×n buffer, which is the result.
 *
 * @throws {NotPositiveDefiniteError} when H is not positive definite (the pivot index refers to
 *   the reversed order, n − 1 − i).
 * @throws {CancelledError} when `isCancelled` (polled every 32 rows) returns true.
 */
export function upperCholeskyOfInverse(H: MatrixLike, isCancelled?: () => boolean): Matrix {
  const n = assertSquare(H, 'H');
  const R = Float64Array.from(H.data).reverse();
  choleskyInPlace(R, n, isCancelled);
  invertLowerInPlace(R, n, isCancelled);
  R.reverse();
  return { rows: n, cols: n, data: R };
}

/**
 * The same U by the route the GPTQ reference takes (Cholesky of H, `cholesky_inverse`, upper
 * Cholesky of the inverse), from an already computed lower factor L of H. Kept as an independent
 * cross-check of {@link upperCholeskyOfInverse}.
 */
export function upperCholeskyOfInverseFromFactor(L: MatrixLike): Matrix {
  return transpose(cholesky(choleskyInverse(L)));
}
