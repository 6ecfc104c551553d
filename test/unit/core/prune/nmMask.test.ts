import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNM, keptInGroup, nmMask } from '../../../../src/core/prune/nmMask';
import { seededNormal } from '../../../../src/core/random/seededRandom';

function gaussian(rows: number, cols: number, seed: number): { rows: number; cols: number; data: Float32Array } {
  const g = seededNormal(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, g) };
}

for (const [N, M] of [[2, 4], [1, 4], [4, 8], [3, 8], [1, 2]] as const) {
  test(`${N}:${M} pattern holds exactly and keeps the largest magnitudes of each group`, () => {
    const W = gaussian(24, 64, N * 10 + M);
    const r = nmMask(W, N, M);
    assert.ok(checkNM({ rows: 24, cols: 64, data: r.mask }, N, M, { exact: true }).ok);
    assert.ok(checkNM({ rows: 24, cols: 64, data: r.weights }, N, M).ok);
    assert.equal(r.sparsity, 1 - N / M);
    for (let row = 0; row < 24; row++) {
      for (let c0 = 0; c0 < 64; c0 += M) {
        let minKept = Infinity, maxPruned = 0;
        for (let t = 0; t < M; t++) {
          const i = row * 64 + c0 + t;
          const a = Math.abs(W.data[i]);
          if (r.mask[i] === 1) {
            minKept = Math.min(minKept, a);
            assert.equal(r.weights[i], W.data[i]);
          } else {
            maxPruned = Math.max(maxPruned, a);
            assert.equal(r.weights[i], 0);
          }
        }
        assert.ok(maxPruned <= minKept);
      }
    }
    // The dense original breaks the pattern (the check can fail).
    assert.ok(!checkNM(W, N, M).ok || N === M);
  });
}

test('a width that is not a multiple of M: dense tail by default, ceil(N·len/M) when proportional', () => {
  const W = gaussian(10, 30, 5); // 7 full groups of 4 and a tail of 2
  const dense = nmMask(W, 2, 4);
  assert.ok(checkNM({ rows: 10, cols: 30, data: dense.mask }, 2, 4, { exact: true }).ok);
  for (let r = 0; r < 10; r++) for (const c of [28, 29]) assert.equal(dense.mask[r * 30 + c], 1);
  assert.equal(dense.sparsity, (10 * 7 * 2) / 300);

  const prop = nmMask(W, 2, 4, { partialGroup: 'proportional' });
  assert.equal(keptInGroup(2, 4, 2, 'proportional'), 1);
  assert.ok(checkNM({ rows: 10, cols: 30, data: prop.mask }, 2, 4, { partialGroup: 'proportional', exact: true }).ok);
  assert.ok(!checkNM({ rows: 10, cols: 30, data: dense.mask }, 2, 4, { partialGroup: 'proportional' }).ok);
  assert.equal(prop.sparsity, (10 * (7 * 2 + 1)) / 300);

  // 4:8 on 21 columns: tail of 5 keeps ceil(4·5/8) = 3; 1:4 on 30: tail of 2 keeps ceil(0.5) = 1.
  const W21 = gaussian(6, 21, 8);
  const r48 = nmMask(W21, 4, 8, { partialGroup: 'proportional' });
  assert.ok(checkNM({ rows: 6, cols: 21, data: r48.mask }, 4, 8, { partialGroup: 'proportional', exact: true }).ok);
  assert.equal(keptInGroup(4, 8, 5, 'proportional'), 3);
  assert.equal(keptInGroup(1, 4, 2, 'proportional'), 1);
  assert.equal(keptInGroup(1, 4, 2, 'dense'), 2);
});

test('ties keep the lower input index', () => {
  const W = { rows: 1, cols: 8, data: new Float32Array([1, -1, 1, 1, 0, 0, 0, 0]) };
  assert.deepEqual(Array.from(nmMask(W, 2, 4).mask), [1, 1, 0, 0, 1, 1, 0, 0]);
});

test('invalid patterns are rejected', () => {
  const W = gaussian(2, 8, 1);
  assert.throws(() => nmMask(W, 5, 4), /invalid N:M/);
  assert.throws(() => nmMask(W, 1.5, 4), /invalid N:M/);
  assert.throws(() => nmMask(W, 2, 0), /invalid N:M/);
});
