import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { ElementType } from '../../../../src/core/onnx/onnxMessages';
import { bytesToFloat32, inlineTensorBytes } from '../../../../src/core/onnx/tensorData';
import type { RunTensor } from '../../../../src/worker/ort';
import { fixture, npmModel } from '../../support/paths';
import { randomFloats, runOnce } from '../../support/runModel';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-onnxmodel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = fixture('workspace', 'tiny_mlp.onnx');
const TRANSFORMER = fixture('onnx', 'transformer.onnx');
const SILERO = npmModel('@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
const OCR = npmModel('@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');

const sileroFeeds = (): Record<string, RunTensor> => ({
  input: randomFloats([1, 512], 3),
  state: { type: 'float32', dims: [2, 1, 128], data: new Float32Array(256) },
  sr: { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) },
});

function assertSameOutputs(a: Record<string, RunTensor>, b: Record<string, RunTensor>): void {
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  for (const k of Object.keys(a)) {
    assert.deepEqual(b[k].dims, a[k].dims, k);
    assert.deepEqual(b[k].data, a[k].data, `output ${k} differs`);
  }
}

const cases: readonly [string, string, () => Record<string, RunTensor>][] = [
  ['tiny_mlp', TINY, () => ({ x: randomFloats([3, 16], 1) })],
  ['transformer', TRANSFORMER, () => ({ x: randomFloats([2, 5, 32], 2) })],
  ['silero', SILERO, sileroFeeds],
  ['pp-ocr recognizer', OCR, () => ({ x: randomFloats([1, 3, 48, 64], 4) })],
];

for (const [label, path, feeds] of cases) {
  test(`round trip without edits keeps ${label}'s outputs identical`, async () => {
    const model = await OnnxModel.load(path);
    const out = join(dir, `${label.replace(/\W/g, '_')}.onnx`);
    const saved = await model.save(out);
    assert.equal(saved.dataPath, undefined);
    assert.equal(statSync(out).size, saved.bytes);
    const f = feeds();
    assertSameOutputs(await runOnce(path, f), await runOnce(out, f));
    // And the in-memory encoding is what was written.
    assert.deepEqual(model.toBytes(), new Uint8Array(readFileSync(out)));
  });
}

test('saving with external data writes a .data file that ONNX Runtime and the loader read back', async () => {
  const model = await OnnxModel.load(TRANSFORMER);
  const out = join(dir, 'transformer_ext.onnx');
  const saved = await model.save(out, { externalData: 'always' });
  assert.equal(saved.dataPath, `${out}.data`);
  assert.ok((saved.dataBytes ?? 0) > 0);
  assert.ok(saved.bytes < statSync(TRANSFORMER).size / 2, 'the weights left the .onnx file');
  const f = { x: randomFloats([2, 5, 32], 5) };
  assertSameOutputs(await runOnce(TRANSFORMER, f), await runOnce(out, f));
  const back = await OnnxModel.load(out);
  const w = back.findInitializer('onnx::MatMul_139');
  assert.equal(w?.dataLocation, 1);
  assert.deepEqual(back.getFloatTensor('onnx::MatMul_139'), model.getFloatTensor('onnx::MatMul_139'));
  const offset = Number(w?.externalData?.find((e) => e.key === 'offset')?.value);
  assert.equal(offset % 16, 0);
  // A copy of an external-data model, saved inline, still carries the weights.
  const inline = join(dir, 'transformer_inline.onnx');
  await back.save(inline, { externalData: 'never' });
  assertSameOutputs(await runOnce(TRANSFORMER, f), await runOnce(inline, f));
});

test('constant tensors come from initializers and Constant nodes', async () => {
  const ocr = await OnnxModel.load(OCR);
  assert.equal(ocr.tensorOrigin('linear_77.w_0')?.kind, 'constant');
  assert.deepEqual(ocr.tensorInfo('linear_77.w_0'), { dataType: ElementType.FLOAT, dims: [120, 360] });
  const w = ocr.getFloatTensor('linear_77.w_0');
  assert.equal(w.length, 120 * 360);
  assert.ok(w.every(Number.isFinite));
  assert.equal(ocr.tensorOrigin('p2o.MatMul.1'), undefined);
  const tiny = await OnnxModel.load(TINY);
  assert.equal(tiny.tensorOrigin('fc1.weight')?.kind, 'initializer');
  assert.equal(tiny.getFloatTensor('fc1.weight').length, 16 * 8);
});

test('setInitializer replaces weights (also those of Constant nodes) and the result runs', async () => {
  const tiny = await OnnxModel.load(TINY);
  const edited = tiny.clone();
  edited.setInitializer('fc2.weight', ElementType.FLOAT, [8, 4], new Float32Array(32));
  assert.notDeepEqual(tiny.getFloatTensor('fc2.weight'), new Float32Array(32), 'the original is untouched');
  const bias = edited.getFloatTensor('fc2.bias');
  const y = (await runOnce(edited.toBytes(), { x: randomFloats([2, 16], 7) })).y.data;
  assert.deepEqual(Array.from(y as Float32Array), [...bias, ...bias]);
  assert.throws(() => edited.setInitializer('fc2.weight', ElementType.FLOAT, [8, 4], new Float32Array(3)), /bytes/);

  const ocr = await OnnxModel.load(OCR);
  const constants = ocr.nodes.filter((n) => n.opType === 'Constant').length;
  const w = ocr.getFloatTensor('linear_85.w_0');
  ocr.setInitializer('linear_85.w_0', ElementType.FLOAT, [120, 6625], w);
  assert.equal(ocr.nodes.filter((n) => n.opType === 'Constant').length, constants - 1);
  assert.equal(ocr.tensorOrigin('linear_85.w_0')?.kind, 'initializer');
  const f = { x: randomFloats([1, 3, 48, 64], 8) };
  assertSameOutputs(await runOnce(OCR, f), await runOnce(ocr.toBytes(), f));
});

test('opsets, metadata, outputs and unique names', async () => {
  const m = await OnnxModel.load(TINY);
  assert.equal(m.opsetVersion(), 13);
  assert.equal(m.opsetVersion('com.microsoft'), undefined);
  m.ensureOpset('com.microsoft', 1);
  m.ensureOpset('', 21);
  assert.equal(m.opsetVersion('com.microsoft'), 1);
  assert.equal(m.opsetVersion(), 13, 'an existing import is not raised');
  m.setMetadata('quantscope.method', 'rtn');
  m.addOutput('h0', ElementType.FLOAT, ['batch', 8]);
  const back = OnnxModel.fromBytes(m.toBytes());
  assert.equal(back.getMetadata('quantscope.method'), 'rtn');
  assert.equal(back.opsetVersion('com.microsoft'), 1);
  const out = await runOnce(m.toBytes(), { x: randomFloats([2, 16], 9) });
  assert.deepEqual(out.h0.dims, [2, 8]);
  assert.ok(m.usedNames().has('fc1/MatMul'));
});

test('typed-field tensors decode, including float16 bit patterns', () => {
  const f16 = { name: 'h', dataType: ElementType.FLOAT16, dims: ['3'], int32Data: [0x3c00, 0xc000, 0x3555] };
  assert.deepEqual(Array.from(bytesToFloat32(ElementType.FLOAT16, inlineTensorBytes(f16), 3, 'h')), [1, -2, 0.333251953125]);
  const i64 = { name: 'i', dataType: ElementType.INT64, dims: ['2'], int64Data: ['9223372036854775807', '-1'] };
  assert.deepEqual(Array.from(new BigInt64Array(inlineTensorBytes(i64).buffer)), [9223372036854775807n, -1n]);
  assert.throws(() => inlineTensorBytes({ name: 'bad', dataType: ElementType.FLOAT, dims: ['4'], floatData: [1] }), /4 elements/);
});

test('a file that is not a model gives a FormatError', async () => {
  await assert.rejects(OnnxModel.load(fixture('workspace', 'broken.onnx')), { name: 'FormatError' });
});

test('saving never overwrites the source model, even when overwriting is allowed', async () => {
  const copy = join(dir, 'source_copy.onnx');
  await (await OnnxModel.load(TINY)).save(copy);
  const model = await OnnxModel.load(copy);
  await assert.rejects(model.save(copy, { overwrite: true }), /source model/);
  await assert.rejects(model.save(copy), /source model|exists/);
  await assert.rejects((await OnnxModel.load(TINY)).save(copy), { name: 'TargetExistsError' });
  await model.save(join(dir, 'source_copy.q8.onnx'));
});
