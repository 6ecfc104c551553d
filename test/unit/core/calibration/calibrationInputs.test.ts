import assert from 'node:assert/strict';
import { test } from 'node:test';
import { floatToHalf, resolveShape, SyntheticInputs } from '../../../../src/core/calibration/calibrationInputs';
import { ElementType } from '../../../../src/core/onnx/onnxMessages';
import { halfToFloat } from '../../../../src/core/tensor/floatTables';

test('floatToHalf rounds to the nearest half (ties to even) and saturates to infinity', () => {
  for (const v of [0, 1, -2, 0.333251953125, 65504, 6.103515625e-5, 5.960464477539063e-8, -0.5]) assert.equal(halfToFloat(floatToHalf(v)), v);
  assert.equal(halfToFloat(floatToHalf(1 + 2 ** -11)), 1, 'a tie goes to the even mantissa');
  assert.equal(halfToFloat(floatToHalf(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
  assert.equal(halfToFloat(floatToHalf(1e6)), Infinity);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  for (let i = 0; i < 2000; i++) {
    const v = (i - 1000) * 0.0137;
    const h = halfToFloat(floatToHalf(v));
    assert.ok(Math.abs(h - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} → ${h}`);
  }
});

test('symbolic dims resolve from names, then batch, then sequence length', () => {
  const spec = { name: 'ids', elemType: ElementType.INT64, shape: ['batch', 'seq', undefined, 7] };
  assert.deepEqual(resolveShape(spec, { batchSize: 2, sequenceLength: 9 }), [2, 9, 9, 7]);
  assert.deepEqual(resolveShape(spec, { batchSize: 2, sequenceLength: 9, dims: { seq: 4, batch: 3 } }), [3, 4, 9, 7]);
});

test('generated inputs: token ids within the vocabulary, masks of ones, seeded floats', () => {
  const specs = [
    { name: 'input_ids', elemType: ElementType.INT64, shape: ['b', 's'] },
    { name: 'attention_mask', elemType: ElementType.INT64, shape: ['b', 's'] },
    { name: 'pixels', elemType: ElementType.FLOAT, shape: [1, 1000] },
    { name: 'h', elemType: ElementType.FLOAT16, shape: [4] },
  ];
  const g = new SyntheticInputs(specs, { batchSize: 2, sequenceLength: 50, vocabSize: 17, seed: 5 });
  const b = g.next();
  assert.deepEqual(b.input_ids.dims, [2, 50]);
  assert.ok((b.input_ids.data as BigInt64Array).every((v) => v >= 0n && v < 17n));
  assert.ok((b.attention_mask.data as BigInt64Array).every((v) => v === 1n));
  const px = b.pixels.data as Float32Array;
  const mean = px.reduce((s, v) => s + v, 0) / px.length;
  const sd = Math.sqrt(px.reduce((s, v) => s + (v - mean) ** 2, 0) / px.length);
  assert.ok(Math.abs(mean) < 0.15 && Math.abs(sd - 1) < 0.15, `mean ${mean}, sd ${sd}`);
  assert.equal(b.h.type, 'float16');
  const again = new SyntheticInputs(specs, { batchSize: 2, sequenceLength: 50, vocabSize: 17, seed: 5 }).next();
  assert.deepEqual(again.pixels.data, b.pixels.data);
  assert.throws(() => new SyntheticInputs([{ name: 's', elemType: ElementType.STRING, shape: [1] }]), /STRING/);
});
