import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxModel } from '../../../../../src/core/onnx/OnnxModel';
import { canonicalWeight, findWeightTargets, packInt4, qdqSupports, rewriteWeightOnlyQdq } from '../../../../../src/core/onnx/rewrite';
import { quantizeRtn } from '../../../../../src/core/quant';
import { fixture, npmModel } from '../../../support/paths';
import { randomFloats, runOnce } from '../../../support/runModel';
import { pairError, relativeL2, rewriteWithReference } from '../../../support/rewriteSupport';

const TINY = fixture('workspace', 'tiny_mlp.onnx');
const TRANSFORMER = fixture('onnx', 'transformer.onnx');
/** DequantizeLinear kept as a node (see pairError). */
const BASIC = { optimization: 'basic' } as const;
const OCR = npmModel('@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');

test('INT8 per-channel QDQ on tiny_mlp: DequantizeLinear yields exactly our dequantize()', async () => {
  const pair = await rewriteWithReference(TINY, { bits: 8, symmetric: true, granularity: 'channel' }, rewriteWeightOnlyQdq);
  const dq = pair.quantized.nodes.filter((n) => n.opType === 'DequantizeLinear');
  assert.equal(dq.length, 2);
  assert.ok(dq.every((n) => (n.domain ?? '') === ''));
  assert.equal(pair.quantized.findInitializer('fc1.weight'), undefined, 'the float weight is gone');
  const feeds = { x: randomFloats([4, 16], 1) };
  const err = await pairError(pair, feeds, BASIC);
  assert.ok(err < 1e-5, `relative error ${err}`);
  const vsFloat = relativeL2(await runOnce(pair.quantized.toBytes(), feeds), await runOnce(TINY, feeds));
  assert.ok(vsFloat > 0 && vsFloat < 0.02, `INT8 error against fp32 ${vsFloat}`);
});

test('asymmetric INT8 QDQ on the transformer, MatMul and Gemm transB (axis 0) alike', async () => {
  const pair = await rewriteWithReference(TRANSFORMER, { bits: 8, symmetric: false, granularity: 'channel' }, rewriteWeightOnlyQdq);
  assert.equal(pair.records.length, 4);
  const gemmDq = pair.quantized.nodes.find((n) => n.opType === 'DequantizeLinear' && n.input?.[0]?.startsWith('self_attn.out_proj.weight'));
  assert.equal(gemmDq?.attribute?.find((a) => a.name === 'axis')?.i, '0');
  const err = await pairError(pair, { x: randomFloats([2, 5, 32], 2) }, BASIC);
  assert.ok(err < 1e-5, `relative error ${err}`);
});

test('3-bit codes in an INT8 container on PP-OCR (opset 9: contrib DequantizeLinear) equal our dequantize()', async () => {
  const pair = await rewriteWithReference(OCR, { bits: 3, symmetric: true, granularity: 'channel' }, rewriteWeightOnlyQdq, (t) => /linear_7[7-9]/.test(t.weight));
  assert.equal(pair.records.length, 3);
  assert.equal(pair.quantized.opsetVersion(), 9, 'the default opset is never raised');
  assert.ok(pair.quantized.nodes.filter((n) => n.opType === 'DequantizeLinear').every((n) => n.domain === 'com.microsoft'));
  const err = await pairError(pair, { x: randomFloats([1, 3, 48, 64], 3) }, BASIC);
  assert.ok(err < 1e-5, `relative error ${err}`);
});

test('grouped QDQ needs opset 21; an opset 21 model gets blocked INT4', async () => {
  const model = await OnnxModel.load(TINY);
  const [t] = findWeightTargets(model).targets;
  const q = quantizeRtn({ rows: t.outFeatures, cols: t.inFeatures, data: canonicalWeight(model, t) }, { bits: 4, symmetric: true, granularity: 'group', groupSize: 8 });
  assert.equal(qdqSupports(q, 13).ok, false);
  assert.throws(() => rewriteWeightOnlyQdq(model, t, q), /opset 21/);
  // Raise the import of a copy by hand: the rewrite itself never does.
  const v21 = model.clone();
  const imp = v21.proto.opsetImport?.find((o) => (o.domain ?? '') === '');
  assert.ok(imp);
  imp.version = '21';
  v21.proto.irVersion = '10';
  const [t21] = findWeightTargets(v21).targets;
  const rec = rewriteWeightOnlyQdq(v21, t21, q);
  assert.equal(rec.container, 'int4');
  const codes = v21.graph.initializer?.find((i) => i.name === 'fc1.weight_quantized');
  assert.deepEqual(codes?.dims, ['16', '8']);
  assert.equal(codes?.rawData?.length, 64);
  const out = await runOnce(v21.toBytes(), { x: randomFloats([2, 16], 4) });
  assert.equal(out.y.dims[1], 4);
});

test('INT4 packs two per byte, low nibble first, two’s complement', () => {
  assert.deepEqual(Array.from(packInt4([1, -1, 7, -8, 3])), [0xf1, 0x87, 0x03]);
});
