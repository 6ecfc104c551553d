import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { editType } from '../../../../src/core/onnx/onnxEditSchema';
import { ElementType } from '../../../../src/core/onnx/onnxMessages';
import { calibrate, summarizeCalibration } from '../../../../src/worker/jobs/calibrate';
import { CancelledError, QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { fixture, npmModel } from '../../support/paths';
import { randomFloats } from '../../support/runModel';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-calibrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = fixture('workspace', 'tiny_mlp.onnx');
const OCR = npmModel('@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');

/** A little-endian float32 `.npy` file (format 1.0). */
function npy(values: Float32Array, shape: readonly number[]): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + header.length);
  return out;
}

/** An ONNX TensorProto file, as in ONNX's test data sets. */
function pb(name: string, values: Float32Array, dims: readonly number[]): Uint8Array {
  const T = editType('TensorProto');
  return T.encode(T.fromObject({ name, dataType: ElementType.FLOAT, dims: dims.map(String), rawData: new Uint8Array(values.buffer.slice(0)) })).finish();
}

test('three batches from TensorProto files accumulate to the same statistics as one concatenated .npy batch', async () => {
  const parts = [0, 1, 2].map((i) => randomFloats([4, 16], 20 + i).data as Float32Array);
  const setDir = join(dir, 'sets');
  parts.forEach((p, i) => {
    mkdirSync(join(setDir, `test_data_set_${i}`), { recursive: true });
    writeFileSync(join(setDir, `test_data_set_${i}`, 'input_0.pb'), pb('x', p, [4, 16]));
  });
  const all = new Float32Array(48 * 4);
  parts.forEach((p, i) => all.set(p, i * 64));
  writeFileSync(join(dir, 'x.npy'), npy(all, [12, 16]));

  const progress: number[] = [];
  const three = await calibrate(TINY, { files: [setDir] }, { isCancelled: () => false, progress: (_m, f) => progress.push(f ?? -1) });
  const one = await calibrate(TINY, { files: [join(dir, 'x.npy')] }, QUIET_JOB);
  assert.equal(three.synthetic, false);
  assert.equal(three.batches, 3);
  assert.equal(one.batches, 1);
  assert.deepEqual(progress.slice(-3), [1 / 3, 2 / 3, 1]);
  for (let l = 0; l < 2; l++) {
    const a = three.layers[l];
    const b = one.layers[l];
    assert.equal(a.rows, 12);
    assert.equal(b.rows, 12);
    assert.deepEqual(a.absmax, b.absmax);
    const scale = Math.max(...b.hessian.map(Math.abs));
    a.hessian.forEach((v, i) => assert.ok(Math.abs(v - b.hessian[i]) <= 1e-5 * scale, `${a.layer} H[${i}]`));
  }
  // The first layer's X is the input: check against JavaScript sums in Float64.
  const d = 16;
  const H = new Float64Array(d * d);
  for (let r = 0; r < 12; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) H[i * d + j] += all[r * d + i] * all[r * d + j];
  three.layers[0].hessian.forEach((v, i) => assert.ok(Math.abs(v - H[i]) <= 1e-5 * Math.max(...H.map(Math.abs)), `H[${i}]`));
  const absmax = Array.from({ length: d }, (_, c) => Math.max(...Array.from({ length: 12 }, (_r, r) => Math.abs(all[r * d + c]))));
  assert.deepEqual(three.layers[0].absmax, absmax);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += H[i * d + i];
  assert.ok(Math.abs(three.layers[0].traceOverD - trace / d) < 1e-4 * trace);
});

test('outlier counts and difficulty follow LLM.int8() and SmoothQuant', async () => {
  const x = randomFloats([8, 16], 30).data as Float32Array;
  for (let r = 0; r < 8; r++) x[r * 16 + 3] = r === 5 ? 40 : 1; // one channel with a large outlier
  writeFileSync(join(dir, 'outlier.npy'), npy(x, [8, 16]));
  const r = await calibrate(TINY, { files: [join(dir, 'outlier.npy')], threshold: 6 }, QUIET_JOB);
  const first = r.layers[0];
  assert.equal(first.absmax[3], 40);
  assert.equal(first.outliers.int8, 1);
  assert.equal(first.outliers.scaleFree, 1);
  const sorted = [...first.absmax].sort((a, b) => a - b);
  assert.ok(Math.abs((first.difficulty ?? 0) - 40 / ((sorted[7] + sorted[8]) / 2)) < 1e-6 * 40);
});

test('generated inputs are marked synthetic, and the summary carries no Hessian', async () => {
  const r = await calibrate(TINY, { batches: 2, batchSize: 3, seed: 1 }, QUIET_JOB);
  assert.equal(r.synthetic, true);
  assert.equal(r.layers[0].rows, 6);
  const s = summarizeCalibration(r);
  assert.ok(!('hessian' in s.layers[0]));
  assert.equal(r.hessianBytes, (16 * 16 + 8 * 8) * 8);
  assert.doesNotThrow(() => JSON.stringify(s));
});

test('refuses before running when the Hessians exceed the memory budget, and stops when cancelled', async () => {
  await assert.rejects(calibrate(TINY, { memoryBudgetBytes: 1000 }, QUIET_JOB), /needs 2\.5 KB for the Hessians of 2 activations \(d up to 16\), more than the 1000 bytes budget/);
  let batches = 0;
  await assert.rejects(
    calibrate(TINY, { batches: 5 }, { isCancelled: () => batches >= 2, progress: (m) => { if (m.startsWith('calibration batch')) batches++; } }),
    (e: unknown) => e instanceof CancelledError,
  );
  assert.equal(batches, 2);
});

test('the PP-OCR recognizer calibrates with finite Hessians for every tapped layer', async () => {
  const r = await calibrate(OCR, { batches: 1, batchSize: 1, sequenceLength: 64 }, QUIET_JOB);
  assert.equal(r.layers.length, 9);
  assert.equal(r.skipped.length, 4);
  for (const l of r.layers) {
    assert.ok(l.rows > 0, l.layer);
    assert.equal(l.hessian.length, l.d * l.d);
    assert.ok(l.hessian.every(Number.isFinite), `${l.layer} has a non-finite H`);
    assert.ok(l.traceOverD > 0, l.layer);
    assert.ok(l.absmax.every((v) => Number.isFinite(v) && v >= 0));
  }
});
