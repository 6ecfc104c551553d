import { choleskyInPlace } from './cholesky';
import { assertSquare, type Matrix, type MatrixLike } from './Matrix';
import { isNotPositiveDefiniteError, NotPositiveDefiniteError } from './NotPositiveDefiniteError';

/** Options of {@link choleskyDamped}. */
export interface DampingOptions {
  /** First relative damping tried after a failure, as a fraction of mean(diag A). Default 1e-6. */
  readonly initialRelativeDamping?: number;
  /** Factor by which the damping grows on each further failure. Default 10. */
  readonly growth?: number;
  /** Number of damped retries before giving up. Default 8. */
  readonly maxRetries?: number;
}

/** Result of {@link choleskyDamped}. */
export interface DampedCholesky {
  /** Lower factor of A + damping·I. */
  readonly L: Matrix;
  /** The absolute damping that was added to the diagonal (0 when A factored as given). */
  readonly damping: number;
}

/**
 * Lower Cholesky factor of A, retrying with A + λI and growing λ when A is positive semi-definite
 * only up to rounding (a Gram matrix of rank-deficient calibration data is the usual case).
 * λ starts at `initialRelativeDamping · mean(diag A)` and grows geometrically.
 *
 * @throws {NotPositiveDefiniteError} when even the largest damping fails, or mean(diag A) ≤ 0.
 */
export function choleskyDamped(a: MatrixLike, options: DampingOptions = {}): DampedCholesky {
  const n = assertSquare(a, 'Cholesky input');
  const growth = options.growth ?? 10;
  const maxRetries = options.maxRetries ?? 8;
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += a.data[i * n + i];
  meanDiag = n > 0 ? meanDiag / n : 0;
  let damping = 0;
  let lastError: NotPositiveDefiniteError | undefined;
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    const L = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) L[i * n + j] = a.data[i * n + j];
      L[i * n + i] = a.data[i * n + i] + damping;
    }
    try {
      choleskyInPlace(L, n);
      return { L: { rows: n, cols: n, data: L }, damping };
    } catch (e) {
      if (!isNotPositiveDefiniteError(e)) throw e;
      lastError = e;
    }
    if (!(meanDiag > 0)) break;
    damping = damping === 0 ? (options.initialRelativeDamping ?? 1e-6) * meanDiag : damping * growth;
  }
  const last = lastError ?? new NotPositiveDefiniteError(0, NaN);
  throw new NotPositiveDefiniteError(last.pivot, last.value);
}
