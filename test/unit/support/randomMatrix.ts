import { seededNormal } from '../../../src/core/random/seededRandom';

/** A seeded generator of standard normal values (mulberry32 + Box–Muller), so tests are reproducible. */
export const normals: (seed: number) => () => number = seededNormal;

/** A random `n × n` SPD matrix GᵀG/m + shift·I with G `m × n` Gaussian. */
export function randomSpd(n: number, seed: number, shift = 0.1, m = n + 5): Float64Array {
  const rand = normals(seed);
  const G = new Float64Array(m * n);
  for (let i = 0; i < G.length; i++) G[i] = rand();
  const A = new Float64Array(n * n);
  for (let r = 0; r < m; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += (G[r * n + i] * G[r * n + j]) / m;
  for (let i = 0; i < n; i++) A[i * n + i] += shift;
  return A;
}

/** Max absolute entry of A·B − I for square row-major A, B. */
export function identityResidual(A: Float64Array, B: Float64Array, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return worst;
}
