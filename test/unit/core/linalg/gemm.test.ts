import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matmul, matmulTransA, matmulTransB, transpose, type MatrixLike } from '../../../../src/core/linalg';
import { normals } from '../../support/randomMatrix';

function random(rows: number, cols: number, seed: number): MatrixLike {
  const rand = normals(seed);
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, rand) };
}

function naive(A: MatrixLike, B: MatrixLike): Float64Array {
  const out = new Float64Array(A.rows * B.cols);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < B.cols; j++) {
    let s = 0;
    for (let k = 0; k < A.cols; k++) s += A.data[i * A.cols + k] * B.data[k * B.cols + j];
    out[i * B.cols + j] = s;
  }
  return out;
}

function close(a: Float64Array, b: Float64Array): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-11 * (1 + Math.abs(b[i])), `entry ${i}: ${a[i]} vs ${b[i]}`);
}

test('matmul, matmulTransA and matmulTransB match the naive product across tile edges', () => {
  for (const [m, k, n] of [[1, 1, 1], [3, 5, 2], [70, 65, 300], [33, 129, 31]]) {
    const A = random(m, k, m + k), B = random(k, n, k + n);
    const ref = naive(A, B);
    close(matmul(A, B).data, ref);
    close(matmulTransA(transpose(A), B).data, ref);
    close(matmulTransB(A, transpose(B)).data, ref);
  }
});

test('Float32 inputs and accumulation into C', () => {
  const A: MatrixLike = { rows: 2, cols: 2, data: Float32Array.from([1, 2, 3, 4]) };
  const B: MatrixLike = { rows: 2, cols: 2, data: Float32Array.from([5, 6, 7, 8]) };
  const C = matmul(A, B);
  assert.deepEqual(Array.from(C.data), [19, 22, 43, 50]);
  matmul(A, B, C);
  assert.deepEqual(Array.from(C.data), [38, 44, 86, 100]);
  assert.throws(() => matmul(A, { rows: 3, cols: 1, data: new Float64Array(3) }), RangeError);
});
