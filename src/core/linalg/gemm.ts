import type { Matrix, MatrixLike } from './Matrix';

// Tile sizes chosen so that a tile of the output row plus the B panel it reads stay in L1/L2.
const TILE_K = 64;
const TILE_J = 256;

/** C = A·B (`m × k` by `k × n`), Float64 result; optionally accumulated into an existing C. */
export function matmul(A: MatrixLike, B: MatrixLike, C?: Matrix): Matrix {
  if (A.cols !== B.rows) throw new RangeError(`matmul: ${A.rows}×${A.cols} · ${B.rows}×${B.cols}`);
  const m = A.rows, k = A.cols, n = B.cols;
  const out = output(C, m, n);
  const a = A.data, b = B.data, c = out.data;
  for (let j0 = 0; j0 < n; j0 += TILE_J) {
    const j1 = Math.min(j0 + TILE_J, n);
    for (let p0 = 0; p0 < k; p0 += TILE_K) {
      const p1 = Math.min(p0 + TILE_K, k);
      for (let i = 0; i < m; i++) {
        const ci = i * n;
        for (let p = p0; p < p1; p++) {
          const s = a[i * k + p];
          if (s === 0) continue;
          const bp = p * n;
          for (let j = j0; j < j1; j++) c[ci + j] += s * b[bp + j];
        }
      }
    }
  }
  return out;
}

/** C = Aᵀ·B (A is `k × m`, B is `k × n`) without forming Aᵀ; optionally accumulated into C. */
export function matmulTransA(A: MatrixLike, B: MatrixLike, C?: Matrix): Matrix {
  if (A.rows !== B.rows) throw new RangeError(`matmulTransA: (${A.rows}×${A.cols})ᵀ · ${B.rows}×${B.cols}`);
  const k = A.rows, m = A.cols, n = B.cols;
  const out = output(C, m, n);
  const a = A.data, b = B.data, c = out.data;
  const TILE_I = 64;
  for (let i0 = 0; i0 < m; i0 += TILE_I) {
    const i1 = Math.min(i0 + TILE_I, m);
    for (let j0 = 0; j0 < n; j0 += TILE_J) {
      const j1 = Math.min(j0 + TILE_J, n);
      for (let p = 0; p < k; p++) {
        const ap = p * m, bp = p * n;
        for (let i = i0; i < i1; i++) {
          const s = a[ap + i];
          if (s === 0) continue;
          const ci = i * n;
          for (let j = j0; j < j1; j++) c[ci + j] += s * b[bp + j];
        }
      }
    }
  }
  return out;
}

/** C = A·Bᵀ (A is `m × k`, B is `n × k`): dot products of contiguous rows; optionally accumulated. */
export function matmulTransB(A: MatrixLike, B: MatrixLike, C?: Matrix): Matrix {
  if (A.cols !== B.cols) throw new RangeError(`matmulTransB: ${A.rows}×${A.cols} · (${B.rows}×${B.cols})ᵀ`);
  const m = A.rows, k = A.cols, n = B.rows;
  const out = output(C, m, n);
  const a = A.data, b = B.data, c = out.data;
  const TILE = 32;
  for (let i0 = 0; i0 < m; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, m);
    for (let j0 = 0; j0 < n; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, n);
      for (let i = i0; i < i1; i++) {
        const ai = i * k;
        for (let j = j0; j < j1; j++) {
          const bj = j * k;
          let s0 = 0, s1 = 0;
          let p = 0;
          for (; p + 1 < k; p += 2) {
            s0 += a[ai + p] * b[bj + p];
            s1 += a[ai + p + 1] * b[bj + p + 1];
          }
          if (p < k) s0 += a[ai + p] * b[bj + p];
          c[i * n + j] += s0 + s1;
        }
      }
    }
  }
  return out;
}

function output(C: Matrix | undefined, m: number, n: number): Matrix {
  if (C === undefined) return { rows: m, cols: n, data: new Float64Array(m * n) };
  if (C.rows !== m || C.cols !== n) throw new RangeError(`accumulator is ${C.rows}×${C.cols}, expected ${m}×${n}`);
  return C;
}
