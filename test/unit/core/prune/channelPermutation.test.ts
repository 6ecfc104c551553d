import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCancelledError } from '../../../../src/core/linalg/CancelledError';
import {
  channelPermutation,
  checkPermutation,
  invertPermutation,
  keptMagnitude,
  nmKeptMagnitude,
  nmMask,
  partitionCount,
  permuteColumns,
  permuteRows,
  permuteVector,
  seededNormal,
  stripeGroupPartitions,
  stripeKept,
  unstructuredKeptMagnitude,
  type PermutationProgress,
} from '../../../../src/core/prune';

function gaussian(rows: number, cols: number, seed: number): { rows: number; cols: number; data: Float32Array } {
  const g = seededNormal(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, g) };
}

const W64 = gaussian(64, 128, 1);

test('stripe-group partitions: (G·M)!/((M!)^G·G!) distinct set partitions, identity first', () => {
  for (const [G, M, count] of [[2, 4, 35], [3, 4, 5775], [2, 8, 6435], [2, 2, 3], [4, 2, 105]] as const) {
    const p = stripeGroupPartitions(G, M);
    assert.equal(p.partitionCount, count);
    assert.equal(partitionCount(G, M), count);
    const seen = new Set<string>();
    for (let q = 0; q < p.partitionCount; q++) {
      const stripes: string[] = [];
      const used = new Set<number>();
      for (let k = 0; k < G; k++) {
        const u = p.partitions[q * G + k];
        const cols = Array.from(p.subsets.subarray(u * M, u * M + M));
        for (const c of cols) used.add(c);
        stripes.push(cols.sort((a, b) => a - b).join(','));
      }
      assert.equal(used.size, G * M, 'every column placed once');
      const key = stripes.sort().join('|');
      assert.ok(!seen.has(key), 'no partition twice');
      seen.add(key);
      if (q === 0) {
        for (let k = 0; k < G; k++) {
          const u = p.partitions[k];
          assert.deepEqual(Array.from(p.subsets.subarray(u * M, u * M + M)), Array.from({ length: M }, (_, i) => k * M + i));
        }
      }
    }
  }
});

test('the stripe kernel equals a comparison-based N:M kept magnitude for every N of M = 4 and 8', () => {
  const W = gaussian(33, 16, 4);
  const A = new Float64Array(33 * 16);
  for (let r = 0; r < 33; r++) for (let c = 0; c < 16; c++) A[c * 33 + r] = Math.abs(W.data[r * 16 + c]);
  for (const M of [4, 8]) {
    for (let N = 0; N <= M; N++) {
      let s = 0;
      for (let st = 0; st < 16 / M; st++) s += stripeKept(A, 33, Int32Array.from({ length: M }, (_, i) => (st * M + i) * 33), N, new Float64Array(M));
      const expected = N === 0 ? 0 : keptMagnitude(W.data, nmMask(W, N, M).mask);
      assert.ok(Math.abs(s - expected) <= 1e-12 * expected, `${N}:${M}: ${s} vs ${expected}`);
      assert.ok(Math.abs(nmKeptMagnitude(W, N, M) - expected) <= 1e-12 * expected);
    }
  }
});

test('permuted 2:4 keeps strictly more magnitude than the default mask on a random 64×128, efficacy ≥ 0.30', () => {
  const r = channelPermutation(W64, 2, 4, { seed: 7 });
  checkPermutation(r.perm, 128);
  // Cross-check with the independent N:M kernel on the permuted weight.
  const permuted = permuteColumns(W64, r.perm);
  const kept = keptMagnitude(permuted.data, nmMask(permuted, 2, 4).mask);
  const keptDefault = keptMagnitude(W64.data, nmMask(W64, 2, 4).mask);
  assert.ok(Math.abs(kept - r.keptAfter) <= 1e-9 * kept);
  assert.ok(Math.abs(keptDefault - r.keptBefore) <= 1e-9 * kept);
  assert.ok(r.keptAfter > r.keptBefore, `${r.keptAfter} vs ${r.keptBefore}`);
  assert.ok(r.keptAfter <= r.unstructuredKept);
  assert.ok(Math.abs(r.unstructuredKept - keptMagnitude(W64.data, nmMask({ rows: 1, cols: W64.data.length, data: W64.data }, W64.data.length / 2, W64.data.length).mask)) <= 1e-9 * kept);
  const efficacy = (r.keptAfter - r.keptBefore) / (r.unstructuredKept - r.keptBefore);
  assert.ok(Math.abs(efficacy - r.efficacy) < 1e-12);
  assert.ok(r.efficacy >= 0.3, `efficacy ${r.efficacy}`);
  assert.ok(r.stats.moves > 0 && r.stats.groupEvaluations > 0 && r.stats.escapes === 4);
});

test('permuting W’s input columns and x the same way leaves W·x unchanged', () => {
  const r = channelPermutation(W64, 2, 4, { escapeAttempts: 0 });
  const g = seededNormal(3);
  const x = Float64Array.from({ length: 128 }, g);
  const Wp = permuteColumns({ rows: 64, cols: 128, data: Float64Array.from(W64.data) }, r.perm);
  const xp = permuteVector(x, r.perm);
  // Equivalently x′ = Pᵀx scatters x through the inverse permutation.
  const inv = invertPermutation(r.perm);
  for (let i = 0; i < 128; i++) assert.equal(xp[inv[i]], x[i]);
  let maxRel = 0;
  for (let o = 0; o < 64; o++) {
    let y = 0, yp = 0, scale = 0;
    for (let j = 0; j < 128; j++) {
      y += W64.data[o * 128 + j] * x[j];
      yp += Wp.data[o * 128 + j] * xp[j];
      scale += Math.abs(W64.data[o * 128 + j] * x[j]);
    }
    maxRel = Math.max(maxRel, Math.abs(y - yp) / scale);
  }
  assert.ok(maxRel < 1e-12, `relative difference ${maxRel}`);
  // With small integers every sum is exact, so the products are identical bit for bit.
  const Wi = { rows: 64, cols: 128, data: Float64Array.from(W64.data, (v) => Math.round(v * 8)) };
  const xi = Float64Array.from(x, (v) => Math.round(v * 8));
  const Wip = permuteColumns(Wi, r.perm), xip = permuteVector(xi, r.perm);
  for (let o = 0; o < 64; o++) {
    let y = 0, yp = 0;
    for (let j = 0; j < 128; j++) {
      y += Wi.data[o * 128 + j] * xi[j];
      yp += Wip.data[o * 128 + j] * xip[j];
    }
    assert.equal(yp, y);
  }
});

test('a permuted two-layer block (producer rows and bias, consumer columns) computes the same function', () => {
  // y = W₂·relu(W₁·x + b₁) with W₁ [128, 48] producing W₂'s 128 inputs.
  const W1 = { rows: 128, cols: 48, data: gaussian(128, 48, 11).data };
  const b1 = Float32Array.from(gaussian(1, 128, 12).data);
  const W2 = W64;
  const { perm } = channelPermutation(W2, 2, 4, { escapeAttempts: 0 });
  const W1p = permuteRows(W1, perm), b1p = permuteVector(b1, perm), W2p = permuteColumns(W2, perm);
  const forward = (A: typeof W1, b: Float32Array, B: typeof W2, x: Float64Array): Float64Array => {
    const h = new Float64Array(128);
    for (let i = 0; i < 128; i++) {
      let s = b[i];
      for (let j = 0; j < 48; j++) s += A.data[i * 48 + j] * x[j];
      h[i] = Math.max(0, s);
    }
    const y = new Float64Array(64);
    for (let o = 0; o < 64; o++) for (let i = 0; i < 128; i++) y[o] += B.data[o * 128 + i] * h[i];
    return y;
  };
  const g = seededNormal(13);
  let num = 0, den = 0;
  for (let t = 0; t < 8; t++) {
    const x = Float64Array.from({ length: 48 }, g);
    const y = forward(W1, b1, W2, x), yp = forward(W1p, b1p, W2p, x);
    for (let o = 0; o < 64; o++) {
      num += (y[o] - yp[o]) ** 2;
      den += y[o] ** 2;
    }
  }
  assert.ok(Math.sqrt(num / den) < 1e-5, `relative L2 error ${Math.sqrt(num / den)}`);
  assert.ok(Math.sqrt(num / den) < 1e-12);
});

test('the search is deterministic for a seed, and never worse than the default mask', () => {
  const W = gaussian(16, 64, 5);
  const a = channelPermutation(W, 2, 4, { seed: 3, escapeAttempts: 4 });
  const b = channelPermutation(W, 2, 4, { seed: 3, escapeAttempts: 4 });
  assert.deepEqual(a.perm, b.perm);
  assert.equal(a.keptAfter, b.keptAfter);
  // A matrix whose default mask is already optimal: rows of identical values.
  const flat = { rows: 4, cols: 16, data: new Float32Array(64).fill(1) };
  const f = channelPermutation(flat, 2, 4);
  assert.equal(f.keptAfter, f.keptBefore);
  assert.equal(f.efficacy, 0);
  assert.deepEqual(Array.from(f.perm), Array.from({ length: 16 }, (_, i) => i));
});

test('other patterns and strategies: 1:4, 4:8, 3 stripes per group, channel swaps', () => {
  // 4:8 stripe groups hold 16 columns: C(16,8) = 12870 subsets per group, so a smaller matrix.
  for (const [N, M, W, options] of [
    [1, 4, gaussian(24, 48, 6), {}],
    [4, 8, gaussian(8, 32, 6), { escapeAttempts: 1, maxSweeps: 2 }],
    [2, 4, gaussian(24, 48, 6), { stripesPerGroup: 3, escapeAttempts: 0, maxSweeps: 1 }],
    [2, 4, gaussian(24, 48, 6), { strategy: 'channelSwaps' as const }],
  ] as const) {
    const r = channelPermutation(W, N, M, options);
    checkPermutation(r.perm, W.cols);
    assert.ok(r.keptAfter > r.keptBefore, `${N}:${M} ${JSON.stringify(options)}`);
    assert.ok(r.keptAfter <= r.unstructuredKept + 1e-9);
    const p = permuteColumns(W, r.perm);
    assert.ok(Math.abs(keptMagnitude(p.data, nmMask(p, N, M).mask) - r.keptAfter) <= 1e-9 * r.keptAfter);
    assert.ok(unstructuredKeptMagnitude(W.data, N, M) >= nmKeptMagnitude(W, N, M));
  }
});

test('progress is reported and cancellation stops the search', () => {
  const seen: PermutationProgress[] = [];
  channelPermutation(gaussian(8, 32, 2), 2, 4, { escapeAttempts: 3, onProgress: (p) => seen.push(p) });
  assert.deepEqual(seen.map((p) => p.escapesDone), [0, 1, 2, 3]);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].bestKept >= seen[i - 1].bestKept);
  let calls = 0;
  assert.throws(() => channelPermutation(W64, 2, 4, { isCancelled: () => ++calls > 3 }), (e) => isCancelledError(e));
});

test('bad shapes and patterns are rejected', () => {
  assert.throws(() => channelPermutation(gaussian(4, 30, 1), 2, 4), /whole number of 4-column stripes/);
  assert.throws(() => channelPermutation(gaussian(4, 32, 1), 5, 4), /invalid N:M/);
  assert.throws(() => channelPermutation(gaussian(4, 32, 1), 2, 4, { stripesPerGroup: 1 }), /at least 2 stripes/);
  assert.throws(() => permuteColumns(gaussian(2, 4, 1), Int32Array.from([0, 1, 1, 3])), /not a permutation/);
});
