import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keptMagnitude, magnitudePrune, magnitudePruneGlobal, prunedCount } from '../../../../src/core/prune/magnitudePrune';
import { kthSmallest } from '../../../../src/core/prune/removeSmallest';
import { seededNormal } from '../../../../src/core/random/seededRandom';

function gaussian(rows: number, cols: number, seed: number, scale = 1): { rows: number; cols: number; data: Float32Array } {
  const g = seededNormal(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => scale * g()) };
}

function zeros(mask: Uint8Array): number {
  let z = 0;
  for (const v of mask) if (v === 0) z++;
  return z;
}

test('magnitude pruning reaches the exact sparsity and removes the smallest |w|', () => {
  for (const s of [0, 0.1, 0.5, 0.73, 0.9, 1]) {
    const W = gaussian(37, 53, 3);
    const r = magnitudePrune(W, s);
    const n = W.data.length;
    assert.equal(zeros(r.mask), Math.round(s * n));
    assert.equal(r.sparsity, Math.round(s * n) / n);
    assert.ok(r.weights instanceof Float32Array);
    let maxPruned = 0, minKept = Infinity;
    for (let i = 0; i < n; i++) {
      if (r.mask[i] === 0) {
        assert.equal(r.weights[i], 0);
        maxPruned = Math.max(maxPruned, Math.abs(W.data[i]));
      } else {
        assert.equal(r.weights[i], W.data[i]);
        minKept = Math.min(minKept, Math.abs(W.data[i]));
      }
    }
    assert.ok(maxPruned <= minKept, `s=${s}: pruned ${maxPruned} > kept ${minKept}`);
  }
});

test('magnitude pruning matches a full sort, with ties pruned in index order', () => {
  // Few distinct values: almost every threshold falls inside a run of ties.
  const data = Float64Array.from({ length: 400 }, (_, i) => ((i * 7919) % 11) - 5);
  const W = { rows: 20, cols: 20, data };
  const s = 0.42;
  const k = prunedCount(400, s);
  const order = Array.from({ length: 400 }, (_, i) => i).sort((a, b) => Math.abs(data[a]) - Math.abs(data[b]) || a - b);
  const expected = new Uint8Array(400).fill(1);
  for (const i of order.slice(0, k)) expected[i] = 0;
  assert.deepEqual(magnitudePrune(W, s).mask, expected);
  assert.ok(magnitudePrune(W, s).weights instanceof Float64Array);
});

test('selection agrees with sorting on random and adversarial inputs', () => {
  const g = seededNormal(9);
  const inputs = [
    Float64Array.from({ length: 1001 }, g),
    Float64Array.from({ length: 1000 }, (_, i) => i),
    Float64Array.from({ length: 1000 }, (_, i) => 1000 - i),
    new Float64Array(500).fill(2),
    Float64Array.from({ length: 777 }, (_, i) => (i % 2 === 0 ? i : -i)),
  ];
  for (const v of inputs) {
    const sorted = v.slice().sort();
    for (const k of [0, 1, Math.floor(v.length / 3), v.length - 1]) assert.equal(kthSmallest(v.slice(), k), sorted[k]);
  }
});

test('global pruning uses one threshold across layers; per-layer pruning does not', () => {
  const small = gaussian(16, 32, 1, 0.1);
  const large = gaussian(16, 32, 2, 1);
  const s = 0.5;
  const [gs, gl] = magnitudePruneGlobal([small, large], s);
  const total = small.data.length + large.data.length;
  assert.equal(zeros(gs.mask) + zeros(gl.mask), Math.round(s * total));
  // One threshold: everything pruned anywhere is at most everything kept anywhere.
  let maxPruned = 0, minKept = Infinity;
  for (const [w, r] of [[small, gs], [large, gl]] as const) {
    for (let i = 0; i < w.data.length; i++) {
      if (r.mask[i] === 0) maxPruned = Math.max(maxPruned, Math.abs(w.data[i]));
      else minKept = Math.min(minKept, Math.abs(w.data[i]));
    }
  }
  assert.ok(maxPruned <= minKept);
  // The layer with small weights gives up more of them than the target; the large one less.
  assert.ok(gs.sparsity > 0.8 && gl.sparsity < 0.2, `small ${gs.sparsity}, large ${gl.sparsity}`);
  // Per layer, each gets exactly the target.
  assert.equal(magnitudePrune(small, s).sparsity, 0.5);
  assert.equal(magnitudePrune(large, s).sparsity, 0.5);
  // Global keeps at least as much total magnitude as per-layer at the same overall sparsity.
  const globalKept = keptMagnitude(small.data, gs.mask) + keptMagnitude(large.data, gl.mask);
  const layerKept = keptMagnitude(small.data, magnitudePrune(small, s).mask) + keptMagnitude(large.data, magnitudePrune(large, s).mask);
  assert.ok(globalKept >= layerKept);
});

test('magnitude pruning rejects bad input with a clear error', () => {
  assert.throws(() => magnitudePrune(gaussian(2, 2, 1), 1.5), /sparsity/);
  assert.throws(() => magnitudePrune({ rows: 2, cols: 2, data: new Float32Array([1, NaN, 2, 3]) }, 0.5), /non-finite/);
  assert.throws(() => magnitudePrune({ rows: 2, cols: 3, data: new Float32Array(4) }, 0.5), /expected 2×3/);
});

test('global ties are pruned in layer order, then index order', () => {
  const a = { rows: 2, cols: 2, data: new Float32Array([1, -1, 1, 1]) };
  const b = { rows: 2, cols: 2, data: new Float32Array([-1, 1, 1, 1]) };
  const [ra, rb] = magnitudePruneGlobal([a, b], 0.75);
  assert.deepEqual(Array.from(ra.mask), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(rb.mask), [0, 0, 1, 1]);
  assert.equal(ra.sparsity, 1);
  assert.equal(rb.sparsity, 0.5);
});
