import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TensorInfo } from '../../../src/core/formats/Checkpoint';
import { readTensorChunks } from '../../../src/core/tensor/TensorReader';

/** What a fixture script computed with numpy for one tensor (float64, row-major). */
export interface ExpectedTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly sum: number;
  readonly sumsq: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly first: number[];
}

/** The `X.expected.json` written next to a fixture. */
export interface ExpectedFile {
  readonly tensors: Record<string, ExpectedTensor>;
  readonly metadata?: Record<string, unknown>;
}

/** Loads an expected-values file. */
export function loadExpected(path: string): ExpectedFile {
  return JSON.parse(readFileSync(path, 'utf8')) as ExpectedFile;
}

function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  const tol = rel * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);
}

/** Reads every value of `t` through the chunk reader (small chunks, to cross boundaries) and compares with numpy's numbers. */
export async function checkTensorValues(t: TensorInfo, e: ExpectedTensor, chunkElements = 7): Promise<void> {
  assert.equal(t.dtype, e.dtype, `${t.name} dtype`);
  assert.deepEqual([...t.shape], e.shape, `${t.name} shape`);
  let sum = 0;
  let sumsq = 0;
  let min = Infinity;
  let max = -Infinity;
  const first: number[] = [];
  let count = 0;
  for await (const chunk of readTensorChunks(t, { float64: true, rowMajor: true, chunkElements })) {
    for (const v of chunk) {
      sum += v;
      sumsq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (first.length < 8) first.push(v);
    }
    count += chunk.length;
  }
  assert.equal(count, t.elements, `${t.name} element count`);
  close(sum, e.sum, `${t.name} sum`);
  close(sumsq, e.sumsq, `${t.name} sum of squares`);
  if (e.min !== null) close(min, e.min, `${t.name} min`, 0);
  if (e.max !== null) close(max, e.max, `${t.name} max`, 0);
  assert.deepEqual(first, e.first, `${t.name} first values`);
}
