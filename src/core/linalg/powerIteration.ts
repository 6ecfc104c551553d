import { assertSquare, type MatrixLike } from './Matrix';

/** Options of {@link topEigenvalue}. */
export interface PowerIterationOptions {
  /** Stop when the Rayleigh quotient changes by at most `tolerance` relative. Default 1e-10. */
  readonly tolerance?: number;
  /** Iteration cap. Default 1000. */
  readonly maxIterations?: number;
}

/** Result of {@link topEigenvalue}. */
export interface TopEigen {
  /** The largest eigenvalue estimate (Rayleigh quotient of the final vector). */
  readonly value: number;
  /** Its unit eigenvector estimate. */
  readonly vector: Float64Array;
  /** Iterations performed. */
  readonly iterations: number;
  /** Whether the tolerance was met before the cap. */
  readonly converged: boolean;
}

/**
 * The largest eigenvalue of a symmetric positive semi-definite matrix by power iteration. For a
 * PSD matrix the dominant eigenvalue in magnitude is the largest, so no shift is needed. The start
 * vector is a fixed pseudo-random sequence (not all-ones, which is orthogonal to the top
 * eigenvector of many structured matrices), so results are reproducible. The Rayleigh quotient of
 * a symmetric matrix never exceeds its top eigenvalue, so an unconverged value is a lower bound.
 */
export function topEigenvalue(A: MatrixLike, options: PowerIterationOptions = {}): TopEigen {
  const n = assertSquare(A, 'power iteration input');
  return topEigenvalueOf(n, (x, y) => multiply(A.data, x, y, n), options);
}

/**
 * {@link topEigenvalue} of the symmetric PSD n×n operator `multiply` (y = A·x), for a matrix
 * held in another form, such as a factor A = R·Rᵀ. Same start vector, so the same iterates.
 */
export function topEigenvalueOf(n: number, multiply: (x: Float64Array, y: Float64Array) => void, options: PowerIterationOptions = {}): TopEigen {
  const tolerance = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 1000;
  let v = new Float64Array(n);
  let w = new Float64Array(n);
  if (n === 0) return { value: 0, vector: v, iterations: 0, converged: true };
  let seed = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    // xorshift32: a deterministic spread of signs and magnitudes.
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    v[i] = seed / 0x100000000 - 0.5;
  }
  normalize(v);
  let lambda = 0;
  for (let it = 1; it <= maxIterations; it++) {
    multiply(v, w);
    let rq = 0;
    for (let i = 0; i < n; i++) rq += v[i] * w[i];
    const norm = normalize(w);
    if (norm === 0) return { value: 0, vector: v, iterations: it, converged: true };
    [v, w] = [w, v];
    if (it > 1 && Math.abs(rq - lambda) <= tolerance * Math.abs(rq)) return { value: rq, vector: v, iterations: it, converged: true };
    lambda = rq;
  }
  return { value: lambda, vector: v, iterations: maxIterations, converged: false };
}

function multiply(a: Float32Array | Float64Array, x: Float64Array, y: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const ai = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += a[ai + j] * x[j];
    y[i] = s;
  }
}

function normalize(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const norm = Math.sqrt(s);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return norm;
}
