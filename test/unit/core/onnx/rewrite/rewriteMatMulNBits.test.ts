import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewriteMatMulNBits, packMatMulNBits } from '../../../../../src/core/onnx/rewrite';
import { gptq, quantizeRtn, type QuantScheme } from '../../../../../src/core/quant';
import { calibrate } from '../../../../../src/worker/jobs/calibrate';
import { QUIET_JOB } from '../../../../../src/worker/jobs/JobContext';
import { fixture, npmModel } from '../../../support/paths';
import { randomFloats } from '../../../support/runModel';
import { pairError, relativeL2, rewriteWithReference, runWith } from '../../../support/rewriteSupport';

const TINY = fixture('workspace', 'tiny_mlp.onnx');
const TRANSFORMER = fixture('onnx', 'transformer.onnx');
const OCR = npmModel('@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');

test('packing follows the contrib schema: low nibble first, padded tail holds the zero point', () => {
  // 2 outputs × 20 inputs, group 16: two blocks per column, the second with 4 real codes.
  const data = Float32Array.from({ length: 40 }, (_, i) => ((i * 7) % 15) - 7);
  const q = quantizeRtn({ rows: 2, cols: 20, data }, { bits: 4, symmetric: false, granularity: 'group', groupSize: 16 });
  const p = packMatMulNBits(q);
  assert.equal(p.kBlocks, 2);
  assert.equal(p.blobSize, 8);
  assert.equal(p.B.length, 2 * 2 * 8);
  for (let n = 0; n < 2; n++) {
    for (let k = 0; k < 32; k++) {
      const b = k >> 4, i = k & 15;
      const byte = p.B[(n * 2 + b) * 8 + (i >> 1)];
      const code = (i & 1) === 0 ? byte & 15 : byte >> 4;
      const zp = q.zeroPoints[n * 2 + b];
      assert.equal(code, k < 20 ? q.codes[n * 20 + k] : zp, `n ${n} k ${k}`);
    }
    assert.ok(p.zeroPoints);
    assert.equal(p.zeroPoints[n] & 15, q.zeroPoints[n * 2]);
    assert.equal(p.zeroPoints[n] >> 4, q.zeroPoints[n * 2 + 1]);
  }
  assert.deepEqual(Array.from(p.scales), Array.from(q.scales));
});

test('symmetric INT4 omits zero points (the default 8 applies)', () => {
  const data = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));
  const p = packMatMulNBits(quantizeRtn({ rows: 2, cols: 32, data }, { bits: 4, symmetric: true, granularity: 'group', groupSize: 32 }));
  assert.equal(p.zeroPoints, undefined);
});

test('INT4 MatMulNBits on tiny_mlp matches our dequantized weights (per-channel, padded block)', async () => {
  const pair = await rewriteWithReference(TINY, { bits: 4, symmetric: true, granularity: 'channel' }, rewriteMatMulNBits);
  assert.equal(pair.records.length, 2);
  assert.ok(pair.quantized.nodes.some((n) => n.opType === 'MatMulNBits' && n.domain === 'com.microsoft'));
  assert.equal(pair.quantized.opsetVersion(), 13, 'the default opset is unchanged');
  const feeds = { x: randomFloats([4, 16], 1) };
  const err = await pairError(pair, feeds);
  assert.ok(err < 1e-4, `relative error ${err}`);
  // Not vacuous: INT4 moves the output away from the float model.
  const vsFloat = relativeL2(await runWith(pair.quantized.toBytes(), feeds), await runWith(TINY, feeds));
  assert.ok(vsFloat > 1e-3 && vsFloat < 1, `INT4 against fp32 ${vsFloat}`);
});

test('INT4 g32 asymmetric MatMulNBits on the transformer (MatMul and Gemm transB) matches our dequantized weights', async () => {
  const pair = await rewriteWithReference(TRANSFORMER, { bits: 4, symmetric: false, granularity: 'group', groupSize: 32 }, rewriteMatMulNBits);
  assert.deepEqual(pair.records.map((r) => r.opType).sort(), ['Gemm', 'MatMul', 'MatMul', 'MatMul']);
  assert.ok(pair.records.every((r) => r.removedFloat && r.afterBytes < r.beforeBytes / 4));
  const err = await pairError(pair, { x: randomFloats([2, 5, 32], 2) });
  assert.ok(err < 1e-4, `relative error ${err}`);
});

test('INT4 g32 MatMulNBits on the PP-OCR recognizer (Constant weights, K = 120 and 240 padded) matches our dequantized weights', async () => {
  const pair = await rewriteWithReference(OCR, { bits: 4, symmetric: true, granularity: 'group', groupSize: 32 }, rewriteMatMulNBits);
  assert.equal(pair.records.length, 9);
  assert.equal(pair.quantized.opsetVersion(), 9);
  const err = await pairError(pair, { x: randomFloats([1, 3, 48, 64], 3) });
  console.log(`PP-OCR MatMulNBits vs dequantized fp32: relative L2 ${err.toExponential(2)}`);
  assert.ok(err < 1e-4, `relative error ${err}`);
});

test('GPTQ INT4 (act-order, static groups of 64) written as MatMulNBits matches its dequantized weights on PP-OCR', async () => {
  const layers = ['p2o.MatMul.6', 'p2o.MatMul.10'];
  const cal = await calibrate(OCR, { layers, batchSize: 1, sequenceLength: 256, batches: 2 }, QUIET_JOB);
  const scheme: QuantScheme = { bits: 4, symmetric: false, granularity: 'group', groupSize: 64 };
  const pair = await rewriteWithReference(OCR, scheme, rewriteMatMulNBits, (t) => layers.includes(t.layer), (W, t) => {
    const l = cal.layers.find((x) => x.layer === t.layer);
    assert.ok(l);
    return gptq(W, { rows: W.cols, cols: W.cols, data: l.hessian }, { scheme, actOrder: true });
  });
  assert.equal(pair.records.length, 2);
  const err = await pairError(pair, { x: randomFloats([1, 3, 48, 96], 7) });
  assert.ok(err < 1e-4, `relative error ${err}`);
});
