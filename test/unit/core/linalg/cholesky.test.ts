import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cholesky, choleskyDamped, choleskyInverse, fromData, identity, invertLower, isNotPositiveDefiniteError,
  NotPositiveDefiniteError, solveCholesky, solveLower, solveLowerTransposed, solveUpper, spdInverse, transpose,
  upperCholeskyOfInverse, upperCholeskyOfInverseFromFactor, matmul, columnVector, isCancelledError,
} from '../../../../src/core/linalg';
import { identityResidual, normals, randomSpd } from '../../support/randomMatrix';

test('cholesky of a known 3×3 matrix', () => {
  // The classic example: [[4,12,-16],[12,37,-43],[-16,-43,98]] = L·Lᵀ with L = [[2,0,0],[6,1,0],[-8,5,3]].
  const A = fromData(3, 3, [4, 12, -16, 12, 37, -43, -16, -43, 98]);
  const L = cholesky(A);
  assert.deepEqual(Array.from(L.data), [2, 0, 0, 6, 1, 0, -8, 5, 3]);
});

test('cholesky reconstructs random SPD matrices', () => {
  for (const n of [1, 2, 7, 33, 64]) {
    const A = fromData(n, n, randomSpd(n, n));
    const L = cholesky(A);
    const R = matmul(L, transpose(L));
    for (let i = 0; i < n * n; i++) assert.ok(Math.abs(R.data[i] - A.data[i]) < 1e-12 * (1 + Math.abs(A.data[i])), `n=${n} entry ${i}`);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(L.data[i * n + j], 0);
  }
});

test('cholesky rejects indefinite and singular matrices with the failing pivot', () => {
  const indefinite = fromData(2, 2, [1, 2, 2, 1]);
  assert.throws(() => cholesky(indefinite), (e: unknown) => isNotPositiveDefiniteError(e) && e.pivot === 1 && /not positive definite/.test(e.message));
  const singular = fromData(3, 3, [1, 1, 0, 1, 1, 0, 0, 0, 1]);
  assert.throws(() => cholesky(singular), NotPositiveDefiniteError);
  assert.throws(() => cholesky(fromData(2, 2, [NaN, 0, 0, 1])), NotPositiveDefiniteError);
  assert.throws(() => cholesky(fromData(2, 3, [1, 0, 0, 0, 1, 0])), RangeError);
});

test('choleskyDamped retries a PSD rank-deficient matrix with growing damping', () => {
  // Rank one: x·xᵀ is PSD but singular.
  const x = [1, 2, 3];
  const A = fromData(3, 3, x.flatMap((a) => x.map((b) => a * b)));
  const { L, damping } = choleskyDamped(A);
  assert.ok(damping > 0);
  const R = matmul(L, transpose(L));
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    assert.ok(Math.abs(R.data[i * 3 + j] - A.data[i * 3 + j] - (i === j ? damping : 0)) < 1e-12);
  }
  assert.equal(choleskyDamped(identity(4)).damping, 0);
  assert.throws(() => choleskyDamped(fromData(2, 2, [-1, 0, 0, -1])), NotPositiveDefiniteError);
});

test('triangular solves and the SPD solve', () => {
  const n = 20;
  const A = fromData(n, n, randomSpd(n, 3));
  const L = cholesky(A);
  const rand = normals(9);
  const b = columnVector(Array.from({ length: n }, rand));
  const y = solveLower(L, b);
  const Ly = matmul(L, y);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(Ly.data[i] - b.data[i]) < 1e-12);
  const z = solveLowerTransposed(L, b);
  const Ltz = matmul(transpose(L), z);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(Ltz.data[i] - b.data[i]) < 1e-12);
  const U = transpose(L);
  const u = solveUpper(U, b);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(u.data[i] - z.data[i]) < 1e-12);
  const x = solveCholesky(L, b);
  const Ax = matmul(A, x);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(Ax.data[i] - b.data[i]) < 1e-10);
});

test('invertLower, choleskyInverse and spdInverse give ‖A·A⁻¹ − I‖ small', () => {
  for (const n of [1, 5, 40, 100]) {
    const A = fromData(n, n, randomSpd(n, 100 + n));
    const L = cholesky(A);
    assert.ok(identityResidual(L.data, invertLower(L).data, n) < 1e-12);
    const inv = spdInverse(A);
    assert.deepEqual(inv.data, choleskyInverse(L).data);
    assert.ok(identityResidual(A.data, inv.data, n) < 1e-10, `n=${n}`);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(inv.data[i * n + j], inv.data[j * n + i]);
  }
  const known = spdInverse(fromData(2, 2, [4, 2, 2, 3]));
  const expected = [3 / 8, -2 / 8, -2 / 8, 4 / 8];
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(known.data[i] - expected[i]) < 1e-15);
});

test('upperCholeskyOfInverse: U upper with UᵀU = H⁻¹', () => {
  const n = 50;
  const H = fromData(n, n, randomSpd(n, 77));
  const U = upperCholeskyOfInverse(H);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.equal(U.data[i * n + j], 0);
  const UtU = matmul(transpose(U), U);
  assert.ok(identityResidual(H.data, UtU.data, n) < 1e-10);
  // The reference route (inverse, then a second Cholesky) gives the same factor.
  const V = upperCholeskyOfInverseFromFactor(cholesky(H));
  for (let i = 0; i < n * n; i++) assert.ok(Math.abs(U.data[i] - V.data[i]) < 1e-10 * (1 + Math.abs(V.data[i])));
  // Known case: H = [[4, 2], [2, 3]] has H⁻¹ = [[3, −2], [−2, 4]]/8.
  const U2 = upperCholeskyOfInverse(fromData(2, 2, [4, 2, 2, 3]));
  const inv = [3 / 8, -2 / 8, -2 / 8, 4 / 8];
  const UtU2 = matmul(transpose(U2), U2);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(UtU2.data[i] - inv[i]) < 1e-15);
  assert.equal(U2.data[2], 0);
  assert.ok(U2.data[0] > 0 && U2.data[3] > 0);
  assert.throws(() => upperCholeskyOfInverse(fromData(2, 2, [1, 2, 2, 1])), NotPositiveDefiniteError);
});

test('the factorizations poll their cancellation check', () => {
  const n = 100;
  const H = fromData(n, n, randomSpd(n, 8));
  let polls = 0;
  assert.throws(() => upperCholeskyOfInverse(H, () => ++polls === 6), (e: unknown) => isCancelledError(e));
  assert.equal(polls, 6); // 4 polls in the Cholesky (rows 0, 32, 64, 96), the second in the inverse
  polls = 0;
  upperCholeskyOfInverse(H, () => {
    polls++;
    return false;
  });
  assert.equal(polls, 8);
});
