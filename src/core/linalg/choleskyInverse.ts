import { invertLower } from './invertLower';
import type { Matrix, MatrixLike } from './Matrix';

/**
 * A⁻¹ from the lower Cholesky factor L of A (A = L·Lᵀ), as LAPACK's `potri` and
 * `torch.cholesky_inverse` compute it: A⁻¹ = L⁻ᵀ·L⁻¹. The result is exactly symmetric.
 */
export function choleskyInverse(L: MatrixLike): Matrix {
  const { data: Li, rows: n } = invertLower(L);
  const out = new Float64Array(n * n);
  // (A⁻¹)_ij = Σ_{k ≥ max(i,j)} Li_ki · Li_kj: accumulate the outer product of each row k of L⁻¹
  // (nonzero in columns 0..k) into the lower triangle, then mirror it.
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const a = Li[rk + i];
      if (a === 0) continue;
      const oi = i * n;
      for (let j = 0; j <= i; j++) out[oi + j] += a * Li[rk + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j];
  return { rows: n, cols: n, data: out };
}
