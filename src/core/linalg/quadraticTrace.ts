import { assertSquare, type MatrixLike } from './Matrix';

/**
 * tr(D·H·Dᵀ) = Σ_i d_iᵀ·H·d_i for D `rows × n` and symmetric H `n × n`, without forming the
 * `rows × rows` product: the layer-wise output error ‖X·Dᵀ‖²_F when H = XᵀX. Only the upper
 * triangle of H is read, and four rows of D are processed per sweep of H so each row of H is
 * loaded once per four quadratic forms.
 */
export function quadraticTrace(D: MatrixLike, H: MatrixLike): number {
  return quadraticTraceOfDifference(D, undefined, H);
}

/**
 * tr((A−B)·H·(A−B)ᵀ) computed row by row without allocating A−B; with B undefined it is
 * tr(A·H·Aᵀ). A and B may be Float32 or Float64; the sum is Float64.
 */
export function quadraticTraceOfDifference(A: MatrixLike, B: MatrixLike | undefined, H: MatrixLike): number {
  const n = assertSquare(H, 'H');
  if (A.cols !== n) throw new RangeError(`rows have ${A.cols} entries, H is ${n}×${n}`);
  if (B !== undefined && (B.rows !== A.rows || B.cols !== A.cols)) {
    throw new RangeError(`difference of ${A.rows}×${A.cols} and ${B.rows}×${B.cols}`);
  }
  const rows = A.rows;
  const h = H.data;
  const d = new Float64Array(4 * n);
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const count = Math.min(4, rows - r0);
    d.fill(0);
    for (let t = 0; t < count; t++) {
      const src = (r0 + t) * n;
      for (let j = 0; j < n; j++) d[t * n + j] = B === undefined ? A.data[src + j] : A.data[src + j] - B.data[src + j];
    }
    // δᵀHδ = Σ_i δ_i·(H_ii·δ_i + 2·Σ_{j>i} H_ij·δ_j): the symmetry of H halves the work.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < n; i++) {
      const hi = i * n;
      let h0 = 0, h1 = 0, h2 = 0, h3 = 0;
      for (let j = i + 1; j < n; j++) {
        const v = h[hi + j];
        h0 += v * d[j];
        h1 += v * d[n + j];
        h2 += v * d[2 * n + j];
        h3 += v * d[3 * n + j];
      }
      const hii = h[hi + i];
      const a0 = d[i], a1 = d[n + i], a2 = d[2 * n + i], a3 = d[3 * n + i];
      s0 += a0 * (hii * a0 + 2 * h0);
      s1 += a1 * (hii * a1 + 2 * h1);
      s2 += a2 * (hii * a2 + 2 * h2);
      s3 += a3 * (hii * a3 + 2 * h3);
    }
    total += s0 + s1 + s2 + s3;
  }
  return total;
}

/** tr(H) of a square matrix. */
export function trace(H: MatrixLike): number {
  const n = assertSquare(H, 'H');
  let s = 0;
  for (let i = 0; i < n; i++) s += H.data[i * n + i];
  return s;
}
