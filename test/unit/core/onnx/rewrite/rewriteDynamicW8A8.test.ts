import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewriteDynamicW8A8 } from '../../../../../src/core/onnx/rewrite';
import { fixture, npmModel } from '../../../support/paths';
import { randomFloats } from '../../../support/runModel';
import { pairError, rewriteWithReference } from '../../../support/rewriteSupport';

const TRANSFORMER = fixture('onnx', 'transformer.onnx');
const OCR = npmModel('@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');

test('dynamic W8A8 on the transformer (MatMul and Gemm + bias) stays close to the dequantized fp32 model', async () => {
  const pair = await rewriteWithReference(TRANSFORMER, { bits: 8, symmetric: true, granularity: 'channel' }, rewriteDynamicW8A8);
  assert.equal(pair.records.length, 4);
  const ops = pair.quantized.nodes.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'DynamicQuantizeMatMul').length, 4);
  const gemm = pair.quantized.nodes.find((n) => n.name === '/self_attn/Gemm');
  assert.equal(gemm?.opType, 'DynamicQuantizeMatMul', 'the layer keeps its name');
  assert.ok(pair.quantized.nodes.some((n) => n.opType === 'Add' && n.input?.includes('self_attn.out_proj.bias')));
  assert.ok(pair.records.every((r) => r.container === 'uint8' && r.afterBytes < r.beforeBytes / 3));
  // Only the per-call activation quantization separates the two.
  const err = await pairError(pair, { x: randomFloats([2, 7, 32], 5) });
  assert.ok(err > 0 && err < 0.01, `relative error ${err}`);
});

test('dynamic W8A8 runs on the PP-OCR recognizer (opset 9, Constant weights)', async () => {
  const pair = await rewriteWithReference(OCR, { bits: 8, symmetric: false, granularity: 'channel' }, rewriteDynamicW8A8, (t) => /linear_8[0-4]/.test(t.weight));
  assert.equal(pair.records.length, 5);
  const err = await pairError(pair, { x: randomFloats([1, 3, 48, 64], 6) });
  assert.ok(err < 0.02, `relative error ${err}`);
});

test('dynamic W8A8 refuses groups', async () => {
  await assert.rejects(rewriteWithReference(TRANSFORMER, { bits: 8, symmetric: true, granularity: 'group', groupSize: 32 }, rewriteDynamicW8A8), /not groups/);
});
