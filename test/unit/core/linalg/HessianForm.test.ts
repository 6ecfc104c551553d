import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accumulateGram, HessianForm, quadraticTraceOfDifference, topEigenvalue, type MatrixLike } from '../../../../src/core/linalg';
import { layerSensitivity } from '../../../../src/core/quant';
import { normals } from '../../support/randomMatrix';

/** X [N, n] of correlated normal rows (a few shared factors plus noise, some loud channels), H = XᵀX, and W, B [out, n]. */
function layer(N: number, n: number, out: number, seed: number): { X: Float32Array; H: MatrixLike; W: MatrixLike; B: MatrixLike } {
  const rand = normals(seed);
  const X = new Float32Array(N * n);
  for (let r = 0; r < N; r++) {
    const f = [rand(), rand(), rand()];
    for (let c = 0; c < n; c++) X[r * n + c] = (rand() + 2 * f[c % 3]) * (c % 11 === 0 ? 6 : 1);
  }
  const H = new Float64Array(n * n);
  accumulateGram(H, X, n);
  const W = Float32Array.from({ length: out * n }, () => 0.1 * rand());
  const B = W.map((v) => v + 0.01 * rand());
  return { X, H: { rows: n, cols: n, data: H }, W: { rows: out, cols: n, data: W }, B: { rows: out, cols: n, data: B } };
}

const close = (a: number, b: number, rel: number, what: string): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b} (relative ${Math.abs(a - b) / Math.abs(b)})`);

test('with fewer calibration rows than inputs, the factored form equals the dense one and ‖X·Dᵀ‖²', () => {
  const N = 24, n = 96, out = 60;
  const { X, H, W, B } = layer(N, n, out, 3);
  const form = HessianForm.of(H, { rows: N });
  assert.deepEqual(form.plan(2 * out), { kind: 'factor', rank: N });
  const [energy, error] = form.traces(W, [undefined, B]);
  close(energy, quadraticTraceOfDifference(W, undefined, H), 1e-9, 'tr(W H Wᵀ)');
  close(error, quadraticTraceOfDifference(W, B, H), 1e-9, 'tr(ΔW H ΔWᵀ)');
  // The definition: Σ over rows of X and outputs of (x·(w − b))².
  let direct = 0;
  for (let r = 0; r < N; r++) {
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += X[r * n + c] * (W.data[o * n + c] - B.data[o * n + c]);
      direct += s * s;
    }
  }
  close(error, direct, 1e-9, '‖X ΔWᵀ‖²');
  close(form.topEigenvalue({ tolerance: 1e-12 }).value, topEigenvalue(H, { tolerance: 1e-12 }).value, 1e-9, 'top eigenvalue');
});

test('a Gram rounded to float32 (as ONNX Runtime computes it) still factors, within float tolerance', () => {
  const N = 64, n = 200, out = 50;
  const { H, W, B } = layer(N, n, out, 8);
  const H32 = { rows: n, cols: n, data: Float32Array.from(H.data) };
  const form = HessianForm.of(H32, { rows: N });
  assert.equal(form.plan(2 * out).kind, 'factor');
  const [energy, error] = form.traces(W, [undefined, B]);
  close(energy, quadraticTraceOfDifference(W, undefined, H32), 1e-5, 'tr(W H Wᵀ)');
  close(error, quadraticTraceOfDifference(W, B, H32), 1e-5, 'tr(ΔW H ΔWᵀ)');
});

test('the dense form is kept when it is cheaper, when the rows are unknown, and when H is not of that rank', () => {
  const { H, W, B } = layer(90, 96, 30, 5);
  assert.deepEqual(HessianForm.of(H, { rows: 90 }).plan(60), { kind: 'dense' });
  assert.deepEqual(HessianForm.of(H).plan(60), { kind: 'dense' });
  assert.deepEqual(HessianForm.of(H, { rows: 200 }).plan(60), { kind: 'dense' });
  // rows = 10 claims a rank H does not have: the factor misses most of tr(H), so the dense form is used, with its exact figures.
  const lying = HessianForm.of(H, { rows: 10 });
  assert.deepEqual(lying.plan(60), { kind: 'dense' });
  assert.equal(lying.traces(W, [B])[0], quadraticTraceOfDifference(W, B, H));
  // The dense form's figures are the per-difference kernel's, bit for bit.
  const [e, d] = HessianForm.of(H).traces(W, [undefined, B]);
  assert.equal(e, quadraticTraceOfDifference(W, undefined, H));
  assert.equal(d, quadraticTraceOfDifference(W, B, H));
});

test('layer sensitivity with the calibration rows gives the dense figures within float tolerance', () => {
  const N = 48, n = 256, out = 64;
  const { H, W } = layer(N, n, out, 11);
  const dense = layerSensitivity(W, H);
  const factored = layerSensitivity(W, H, { rows: N });
  close(factored.outputEnergy, dense.outputEnergy, 1e-9, 'output energy');
  close(factored.topEigenvalue, dense.topEigenvalue, 1e-7, 'top eigenvalue');
  for (const [k, c] of dense.candidates.entries()) close(factored.candidates[k].error, c.error, 1e-9, c.label);
});
