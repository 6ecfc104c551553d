/**
 * Thrown by the Cholesky factorization when a pivot is not positive: the matrix is not
 * (numerically) positive definite. `pivot` tells which leading minor failed, which points at a
 * dead or linearly dependent input channel when the matrix is a Gram matrix XᵀX.
 */
export class NotPositiveDefiniteError extends Error {
  /** Zero-based index of the first non-positive pivot. */
  readonly pivot: number;
  /** The value found there (≤ 0, or NaN). */
  readonly value: number;

  constructor(pivot: number, value: number) {
    super(`matrix is not positive definite: pivot ${pivot} is ${value}`);
    this.name = 'NotPositiveDefiniteError';
    this.pivot = pivot;
    this.value = value;
  }
}

/** True when `e` is a {@link NotPositiveDefiniteError}, also across bundle boundaries. */
export function isNotPositiveDefiniteError(e: unknown): e is NotPositiveDefiniteError {
  return e instanceof NotPositiveDefiniteError || (e instanceof Error && e.name === 'NotPositiveDefiniteError');
}
