import { cholesky } from './cholesky';
import { choleskyInverse } from './choleskyInverse';
import type { Matrix, MatrixLike } from './Matrix';

/**
 * Inverse of a symmetric positive definite matrix through its Cholesky factor, which is both
 * cheaper and more stable than a general inverse and keeps the result symmetric.
 *
 * @throws {NotPositiveDefiniteError} when A is not positive definite.
 */
export function spdInverse(a: MatrixLike): Matrix {
  return choleskyInverse(cholesky(a));
}
