import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matmulTransB, type MatrixLike } from '../../../../src/core/linalg';
import { dequantize, isCancelledError, layerSensitivity, quantizeRtn } from '../../../../src/core/quant';
import { syntheticLayer } from '../../support/syntheticLayer';

const OUT = 32, IN = 256, N = 800;
const layer = syntheticLayer(OUT, IN, N, 21);

/** ‖X·Dᵀ‖²_F measured on the calibration rows. */
function measured(X: MatrixLike, D: Float64Array, out: number): number {
  const Y = matmulTransB(X, { rows: out, cols: X.cols, data: D });
  return Y.data.reduce((s, v) => s + v * v, 0);
}

test('sensitivity ordering: INT8 < INT4 g128 < INT4 per-channel, and JSON-able output', () => {
  const s = layerSensitivity(layer.W, layer.H);
  assert.deepEqual(s.candidates.map((c) => c.id), ['int8-channel', 'int4-g128', 'int4-channel', 'prune-2:4']);
  const rel = Object.fromEntries(s.candidates.map((c) => [c.id, c.relativeError ?? NaN]));
  assert.ok(rel['int8-channel'] < rel['int4-g128']);
  assert.ok(rel['int4-g128'] < rel['int4-channel']);
  assert.ok(rel['int4-channel'] < rel['prune-2:4']);
  assert.ok(rel['int8-channel'] > 0 && rel['int8-channel'] < 1e-3);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  const bpw = s.candidates.map((c) => c.bitsPerWeight);
  assert.ok(Math.abs((bpw[0] ?? 0) - (8 + 32 / IN)) < 1e-12);
  assert.ok(Math.abs((bpw[1] ?? 0) - (4 + 32 / 128)) < 1e-12);
  assert.equal(bpw[3], null);
});

test('sensitivity values match a direct computation from X', () => {
  const s = layerSensitivity(layer.W, layer.H);
  const Wd = Float64Array.from(layer.W.data);
  const energy = measured(layer.X, Wd, OUT);
  assert.ok(Math.abs(s.outputEnergy - energy) <= 1e-9 * energy);

  const int4 = dequantize(quantizeRtn(layer.W, { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 }));
  const e4 = measured(layer.X, Float64Array.from(Wd, (w, i) => w - int4[i]), OUT);
  const c4 = s.candidates[1];
  assert.ok(Math.abs(c4.error - e4) <= 1e-9 * e4);
  assert.ok(Math.abs((c4.relativeError ?? NaN) - e4 / energy) <= 1e-9 * (e4 / energy));

  // 2:4 by hand: in each run of 4 inputs the two smallest magnitudes are removed.
  const dW = new Float64Array(OUT * IN);
  for (let r = 0; r < OUT; r++) for (let c0 = 0; c0 < IN; c0 += 4) {
    const run = [0, 1, 2, 3].map((k) => ({ k, a: Math.abs(Wd[r * IN + c0 + k]) })).sort((x, y) => y.a - x.a || x.k - y.k);
    for (const { k } of run.slice(2)) dW[r * IN + c0 + k] = Wd[r * IN + c0 + k];
  }
  const e24 = measured(layer.X, dW, OUT);
  assert.ok(Math.abs(s.candidates[3].error - e24) <= 1e-9 * e24);

  let trH = 0;
  for (const v of layer.X.data) trH += v * v;
  assert.ok(Math.abs(s.traceHPerDim - trH / IN) <= 1e-9 * (trH / IN));

  // The eigenpair satisfies H·v = λ·v, and λ bounds every Rayleigh quotient (here the diagonal).
  assert.ok(s.eigenConverged);
  let maxDiag = 0;
  for (let i = 0; i < IN; i++) maxDiag = Math.max(maxDiag, layer.H.data[i * IN + i]);
  assert.ok(s.topEigenvalue >= maxDiag && s.topEigenvalue <= trH);
});

test('top eigenvalue of a layer with a known spectrum, and a zero layer', () => {
  // H = diag(9, 4, 1, 0): the top eigenvalue is 9.
  const H = { rows: 4, cols: 4, data: Float64Array.from([9, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]) };
  const W = { rows: 2, cols: 4, data: Float32Array.from([1, 0, 0, 0, 0, 0, 0, 1]) };
  const s = layerSensitivity(W, H);
  assert.ok(Math.abs(s.topEigenvalue - 9) < 1e-6);
  assert.equal(s.outputEnergy, 9);
  const zero = layerSensitivity({ rows: 2, cols: 4, data: new Float32Array(8) }, H);
  assert.ok(zero.candidates.every((c) => c.relativeError === null && c.error === 0));
  assert.throws(() => layerSensitivity(W, { rows: 3, cols: 3, data: new Float64Array(9) }), RangeError);
  assert.throws(() => layerSensitivity(W, H, { isCancelled: () => true }), (e: unknown) => isCancelledError(e));
});
