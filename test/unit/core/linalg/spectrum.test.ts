import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GramAccumulator, accumulateGram, matmul, matmulTransA, quadraticTrace, quadraticTraceOfDifference, topEigenvalue,
  trace, transpose, type Matrix,
} from '../../../../src/core/linalg';
import { normals } from '../../support/randomMatrix';

/** Q·diag(λ)·Qᵀ with Q a Householder reflection, so the spectrum is known exactly. */
function withSpectrum(lambdas: number[], seed: number): Matrix {
  const n = lambdas.length;
  const rand = normals(seed);
  const v = Float64Array.from({ length: n }, rand);
  const vv = v.reduce((s, x) => s + x * x, 0);
  const Q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Q[i * n + j] = (i === j ? 1 : 0) - (2 * v[i] * v[j]) / vv;
  const QD = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) QD[i * n + j] = Q[i * n + j] * lambdas[j];
  return matmul({ rows: n, cols: n, data: QD }, transpose({ rows: n, cols: n, data: Q }));
}

test('power iteration finds the top eigenvalue of a known spectrum', () => {
  const lambdas = [10, 5, 3, 1, 0.5, 0.1, 0, 0];
  const A = withSpectrum(lambdas, 4);
  const r = topEigenvalue(A, { tolerance: 1e-13 });
  assert.ok(r.converged);
  assert.ok(Math.abs(r.value - 10) < 1e-9, `got ${r.value}`);
  const Av = matmul(A, { rows: 8, cols: 1, data: r.vector });
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(Av.data[i] - 10 * r.vector[i]) < 1e-5);
  // Deterministic.
  assert.equal(topEigenvalue(A, { tolerance: 1e-13 }).value, r.value);
});

test('power iteration: zero matrix, iteration cap and a close gap', () => {
  assert.equal(topEigenvalue({ rows: 3, cols: 3, data: new Float64Array(9) }).value, 0);
  const capped = topEigenvalue(withSpectrum([1, 0.999, 0.5], 2), { maxIterations: 3, tolerance: 1e-15 });
  assert.equal(capped.converged, false);
  assert.equal(capped.iterations, 3);
  const close = topEigenvalue(withSpectrum([2, 1.9, 1, 0.2], 3), { tolerance: 1e-12, maxIterations: 5000 });
  assert.ok(Math.abs(close.value - 2) < 1e-8);
});

test('Gram accumulation from chunks equals XᵀX, and the trace formula equals ‖X·Dᵀ‖²', () => {
  const rows = 37, d = 11;
  const rand = normals(5);
  const X = Float32Array.from({ length: rows * d }, rand);
  const acc = new GramAccumulator(d);
  acc.addRows(X.subarray(0, 9 * d));
  acc.addRows(X.subarray(9 * d, 10 * d));
  acc.addRows(X.subarray(10 * d));
  assert.equal(acc.rowCount, rows);
  const H = acc.matrix();
  const ref = matmulTransA({ rows, cols: d, data: X }, { rows, cols: d, data: X });
  for (let i = 0; i < d * d; i++) assert.ok(Math.abs(H.data[i] - ref.data[i]) < 1e-12 * (1 + Math.abs(ref.data[i])));
  const H2 = new Float64Array(d * d);
  accumulateGram(H2, X.subarray(0, 20 * d), d);
  accumulateGram(H2, X.subarray(20 * d), d);
  for (let i = 0; i < d * d; i++) assert.ok(Math.abs(H2[i] - ref.data[i]) < 1e-12 * (1 + Math.abs(ref.data[i])));
  assert.throws(() => acc.addRows(new Float32Array(5)), RangeError);

  const out = 6;
  const D: Matrix = { rows: out, cols: d, data: Float64Array.from({ length: out * d }, rand) };
  const XDt = matmul({ rows, cols: d, data: X }, transpose(D));
  const measured = XDt.data.reduce((s, v) => s + v * v, 0);
  const formula = quadraticTrace(D, H);
  assert.ok(Math.abs(formula - measured) <= 1e-12 * measured);
  const zero: Matrix = { rows: out, cols: d, data: new Float64Array(out * d) };
  assert.equal(quadraticTraceOfDifference(D, zero, H), formula);
  assert.ok(Math.abs(trace(H) - X.reduce((s, v) => s + v * v, 0)) < 1e-9);
});
