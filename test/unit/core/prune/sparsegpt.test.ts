import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GramAccumulator, isCancelledError, quadraticTraceOfDifference, type Matrix, type MatrixLike } from '../../../../src/core/linalg';
import { checkNM, magnitudePrune, nmMask, rtnColumnQuantizer, seededNormal, sparsegpt } from '../../../../src/core/prune';

/**
 * A layer whose inputs have correlated channel groups (noisy copies of shared factors) and a few
 * high-variance channels: the structure second-order pruning exploits and magnitude cannot see.
 */
function correlatedLayer(out: number, inp: number, n: number, seed: number, dead: readonly number[] = []): { W: MatrixLike; H: Matrix } {
  const g = seededNormal(seed);
  const X = new Float64Array(n * inp);
  for (let r = 0; r < n; r++) {
    const f = [g(), g(), g(), g()];
    for (let c = 0; c < inp; c++) {
      let v = g();
      if (c % 3 === 0) v = 0.2 * v + 1.5 * f[c % 4];
      if (c % 29 === 5) v *= 8;
      X[r * inp + c] = v;
    }
  }
  for (const c of dead) for (let r = 0; r < n; r++) X[r * inp + c] = 0;
  const acc = new GramAccumulator(inp);
  acc.addRows(X);
  return { W: { rows: out, cols: inp, data: Float32Array.from({ length: out * inp }, () => 0.05 * g()) }, H: acc.matrix() };
}

const OUT = 32, IN = 256;
const layer = correlatedLayer(OUT, IN, 1024, 21);

function layerError(W: MatrixLike, pruned: Float32Array, H: MatrixLike): number {
  return quadraticTraceOfDifference(W, { rows: W.rows, cols: W.cols, data: pruned }, H);
}

function zeros(mask: Uint8Array): number {
  let z = 0;
  for (const v of mask) if (v === 0) z++;
  return z;
}

test('SparseGPT 50% unstructured: exact sparsity, zeros where the mask says, error below magnitude pruning', () => {
  const r = sparsegpt(layer.W, layer.H, { sparsity: 0.5 });
  assert.equal(zeros(r.mask), (OUT * IN) / 2);
  assert.equal(r.sparsity, 0.5);
  for (let i = 0; i < r.mask.length; i++) if (r.mask[i] === 0) assert.equal(r.weights[i], 0);
  // Each mask block of Bs = 128 columns holds exactly half of its weights.
  for (const c0 of [0, 128]) {
    let z = 0;
    for (let row = 0; row < OUT; row++) for (let c = c0; c < c0 + 128; c++) if (r.mask[row * IN + c] === 0) z++;
    assert.equal(z, (OUT * 128) / 2);
  }
  const eS = layerError(layer.W, r.weights, layer.H);
  const eM = layerError(layer.W, magnitudePrune({ rows: OUT, cols: IN, data: Float32Array.from(layer.W.data) }, 0.5).weights, layer.H);
  assert.ok(eS < eM, `SparseGPT ${eS} vs magnitude ${eM}`);
  assert.ok(eS < 0.7 * eM, `ratio ${eS / eM}`);
});

for (const [n, m] of [[2, 4], [4, 8], [1, 4]] as const) {
  test(`SparseGPT ${n}:${m}: the pattern holds exactly and the error is below ${n}:${m} magnitude pruning`, () => {
    const r = sparsegpt(layer.W, layer.H, { pattern: { n, m } });
    assert.ok(checkNM({ rows: OUT, cols: IN, data: r.mask }, n, m, { exact: true }).ok);
    assert.ok(checkNM({ rows: OUT, cols: IN, data: r.weights }, n, m).ok);
    assert.equal(r.sparsity, 1 - n / m);
    const eS = layerError(layer.W, r.weights, layer.H);
    const eM = layerError(layer.W, nmMask({ rows: OUT, cols: IN, data: Float32Array.from(layer.W.data) }, n, m).weights, layer.H);
    assert.ok(eS < eM, `SparseGPT ${eS} vs magnitude ${eM}`);
  });
}

test('SparseGPT N:M with a width that is not a multiple of M keeps the tail as nmMask does', () => {
  const l = correlatedLayer(8, 30, 256, 4);
  const dense = sparsegpt(l.W, l.H, { pattern: { n: 2, m: 4 } });
  assert.ok(checkNM({ rows: 8, cols: 30, data: dense.mask }, 2, 4, { exact: true }).ok);
  const prop = sparsegpt(l.W, l.H, { pattern: { n: 2, m: 4 }, partialGroup: 'proportional' });
  assert.ok(checkNM({ rows: 8, cols: 30, data: prop.mask }, 2, 4, { exact: true, partialGroup: 'proportional' }).ok);
});

test('joint SparseGPT + 4-bit quantization: kept weights lie on the RTN grid, error below magnitude then RTN', () => {
  const scheme = { bits: 4, symmetric: true, granularity: 'channel' } as const;
  const r = sparsegpt(layer.W, layer.H, { pattern: { n: 2, m: 4 }, quantize: rtnColumnQuantizer(layer.W, scheme) });
  assert.ok(checkNM({ rows: OUT, cols: IN, data: r.mask }, 2, 4, { exact: true }).ok);
  // Per output row, every kept value is a multiple of that row's scale.
  for (let row = 0; row < OUT; row++) {
    let absmax = 0;
    for (let c = 0; c < IN; c++) absmax = Math.max(absmax, Math.abs(layer.W.data[row * IN + c]));
    const scale = Math.fround(absmax / 7);
    for (let c = 0; c < IN; c++) {
      const q = r.weights[row * IN + c] / scale;
      assert.ok(Math.abs(q - Math.round(q)) < 1e-4 && Math.abs(q) <= 8, `row ${row} col ${c}: ${q}`);
    }
  }
  // Baseline: 2:4 magnitude, then round the kept weights to the same grid.
  const nm = nmMask({ rows: OUT, cols: IN, data: Float32Array.from(layer.W.data) }, 2, 4);
  const quantize = rtnColumnQuantizer(layer.W, scheme);
  const baseline = Float32Array.from(nm.weights);
  const col = new Float64Array(OUT), out = new Float64Array(OUT);
  for (let c = 0; c < IN; c++) {
    for (let row = 0; row < OUT; row++) col[row] = nm.weights[row * IN + c];
    quantize(col, c, out);
    for (let row = 0; row < OUT; row++) baseline[row * IN + c] = nm.mask[row * IN + c] === 1 ? out[row] : 0;
  }
  const eS = layerError(layer.W, r.weights, layer.H), eB = layerError(layer.W, baseline, layer.H);
  assert.ok(eS < eB, `joint ${eS} vs magnitude+RTN ${eB}`);
});

test('dead inputs are zeroed and pruned first; progress and cancellation', () => {
  const l = correlatedLayer(8, 64, 256, 9, [3, 40]);
  const done: number[] = [];
  const r = sparsegpt(l.W, l.H, { sparsity: 0.5, blockSize: 32, maskBlockSize: 32, onProgress: (d) => done.push(d) });
  assert.deepEqual(r.deadInputs, [3, 40]);
  for (let row = 0; row < 8; row++) for (const c of [3, 40]) assert.equal(r.mask[row * 64 + c], 0);
  assert.deepEqual(done, [32, 64]);
  assert.equal(r.sparsity, 0.5);
  assert.throws(() => sparsegpt(l.W, l.H, { sparsity: 0.5, isCancelled: () => true }), (e) => isCancelledError(e));
  assert.throws(() => sparsegpt(l.W, l.H, { sparsity: 2 }), /sparsity/);
  assert.throws(() => sparsegpt(l.W, { rows: 3, cols: 3, data: new Float64Array(9) }, { sparsity: 0.5 }), /H must be 64×64/);
  assert.throws(() => sparsegpt(l.W, l.H, { pattern: { n: 5, m: 4 } }), /invalid N:M/);
});
