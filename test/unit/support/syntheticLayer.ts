import { GramAccumulator, type Matrix, type MatrixLike } from '../../../src/core/linalg';
import { normals } from './randomMatrix';

/** A synthetic linear layer: weights, calibration inputs and their Gram matrix. */
export interface SyntheticLayer {
  /** W [out, in], Float32. */
  readonly W: MatrixLike;
  /** X [n, in], Float32 calibration rows. */
  readonly X: MatrixLike;
  /** H = XᵀX, Float64. */
  readonly H: Matrix;
}

/**
 * Inputs shaped like transformer activations: a Gaussian bulk, a few high-variance outlier
 * channels, and groups of strongly correlated channels (each a noisy copy of a shared factor),
 * which is what gives GPTQ's error feedback something to exploit.
 */
export function syntheticLayer(out: number, inp: number, n: number, seed: number, dead: readonly number[] = []): SyntheticLayer {
  const rand = normals(seed);
  const X = new Float32Array(n * inp);
  const factors = 4;
  for (let r = 0; r < n; r++) {
    const f = Array.from({ length: factors }, rand);
    for (let c = 0; c < inp; c++) {
      let v = rand();
      if (c % 5 === 0) v = 0.3 * v + f[c % factors] * 1.5; // correlated channels
      if (c % 37 === 3) v *= 12; // high-variance outlier channels
      X[r * inp + c] = v;
    }
  }
  for (const c of dead) for (let r = 0; r < n; r++) X[r * inp + c] = 0;
  const W = Float32Array.from({ length: out * inp }, () => 0.05 * rand());
  const acc = new GramAccumulator(inp);
  acc.addRows(X);
  return { W: { rows: out, cols: inp, data: W }, X: { rows: n, cols: inp, data: X }, H: acc.matrix() };
}
