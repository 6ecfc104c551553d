import { assertSquare, type Matrix, type MatrixLike } from './Matrix';

/**
 * Solves L·X = B by forward substitution, L lower triangular (entries above the diagonal are
 * ignored), B `n × m`. Works on whole rows of B so the inner loop is contiguous.
 */
export function solveLower(L: MatrixLike, B: MatrixLike): Matrix {
  const n = checkSystem(L, B);
  const m = B.cols;
  const X = Float64Array.from(B.data);
  for (let i = 0; i < n; i++) {
    const xi = i * m;
    for (let k = 0; k < i; k++) {
      const l = L.data[i * n + k];
      if (l === 0) continue;
      const xk = k * m;
      for (let j = 0; j < m; j++) X[xi + j] -= l * X[xk + j];
    }
    const inv = 1 / L.data[i * n + i];
    for (let j = 0; j < m; j++) X[xi + j] *= inv;
  }
  return { rows: n, cols: m, data: X };
}

/**
 * Solves U·X = B by back substitution, U upper triangular (entries below the diagonal are
 * ignored), B `n × m`.
 */
export function solveUpper(U: MatrixLike, B: MatrixLike): Matrix {
  const n = checkSystem(U, B);
  const m = B.cols;
  const X = Float64Array.from(B.data);
  for (let i = n - 1; i >= 0; i--) {
    const xi = i * m;
    for (let k = i + 1; k < n; k++) {
      const u = U.data[i * n + k];
      if (u === 0) continue;
      const xk = k * m;
      for (let j = 0; j < m; j++) X[xi + j] -= u * X[xk + j];
    }
    const inv = 1 / U.data[i * n + i];
    for (let j = 0; j < m; j++) X[xi + j] *= inv;
  }
  return { rows: n, cols: m, data: X };
}

/**
 * Solves Lᵀ·X = B with L lower triangular, without forming Lᵀ: the second half of an SPD solve
 * A·X = B once A = L·Lᵀ is known.
 */
export function solveLowerTransposed(L: MatrixLike, B: MatrixLike): Matrix {
  const n = checkSystem(L, B);
  const m = B.cols;
  const X = Float64Array.from(B.data);
  // Column-oriented back substitution: once row i of X is final, it is pushed into the rows
  // above it through column i of Lᵀ, which is row i of L (contiguous).
  for (let i = n - 1; i >= 0; i--) {
    const xi = i * m;
    const inv = 1 / L.data[i * n + i];
    for (let j = 0; j < m; j++) X[xi + j] *= inv;
    for (let k = 0; k < i; k++) {
      const l = L.data[i * n + k];
      if (l === 0) continue;
      const xk = k * m;
      for (let j = 0; j < m; j++) X[xk + j] -= l * X[xi + j];
    }
  }
  return { rows: n, cols: m, data: X };
}

/** Solves A·x = b for an SPD A given its lower Cholesky factor L (A = L·Lᵀ). */
export function solveCholesky(L: MatrixLike, B: MatrixLike): Matrix {
  return solveLowerTransposed(L, solveLower(L, B));
}

/** A column vector as an `n × 1` matrix, so vectors can go through the solvers above. */
export function columnVector(v: ArrayLike<number>): Matrix {
  return { rows: v.length, cols: 1, data: Float64Array.from(v) };
}

function checkSystem(T: MatrixLike, B: MatrixLike): number {
  const n = assertSquare(T, 'triangular factor');
  if (B.rows !== n) throw new RangeError(`right-hand side has ${B.rows} rows, expected ${n}`);
  return n;
}
