import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { profileModel } from '../../../../src/worker/jobs/profileModel';
import { fixture, npmModel } from '../../support/paths';

test('profileModel ranks the real PP-OCRv4 recognizer layers by sensitivity, with activation statistics', async () => {
  const p = await profileModel({ path: npmModel('@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx'), samples: 1, sequenceLength: 64 }, QUIET_JOB);
  assert.equal(p.calibration.synthetic, true);
  assert.equal(p.layers.length, 9);
  const ranks = p.layers.map((l) => l.rank);
  assert.deepEqual(ranks, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const l of p.layers) {
    assert.ok(l.sensitivity, `${l.layer} has a sensitivity`);
    const err = (id: string): number => l.sensitivity?.candidates.find((c) => c.id === id)?.relativeError ?? NaN;
    // More bits never cost more: INT8 per-channel is far below INT4.
    assert.ok(err('int8-channel') < err('int4-g128'), `${l.layer}: INT8 ${err('int8-channel')} < INT4 g128 ${err('int4-g128')}`);
    assert.equal(l.absmax.length, l.d);
  }
  assert.equal(p.activationHeatmap.layers.length, 9);
});

test('when the Hessians exceed the memory budget, layers are calibrated in groups with the same results', async () => {
  const path = fixture('workspace', 'tiny_mlp.onnx');
  const whole = await profileModel({ path, samples: 2 }, QUIET_JOB);
  // fc1 has d = 16 (2048 bytes of H), fc2 d = 8 (512 bytes): a 2100-byte budget forces two groups.
  const grouped = await profileModel({ path, samples: 2, memoryBudgetBytes: 2100 }, QUIET_JOB);
  assert.deepEqual(grouped.layers.map((l) => l.layer).sort(), whole.layers.map((l) => l.layer).sort());
  for (const l of grouped.layers) {
    const w = whole.layers.find((x) => x.layer === l.layer);
    assert.ok(w?.sensitivity && l.sensitivity);
    assert.ok(Math.abs(l.sensitivity.traceH - w.sensitivity.traceH) <= 1e-9 * w.sensitivity.traceH, `${l.layer}: same H`);
  }
  assert.ok(grouped.calibration.hessianBytes <= 2100, `held at most ${grouped.calibration.hessianBytes} bytes at once`);
});

test('a budget smaller than one layer is refused with the size named', async () => {
  await assert.rejects(profileModel({ path: fixture('workspace', 'tiny_mlp.onnx'), samples: 1, memoryBudgetBytes: 1000 }, QUIET_JOB), /takes 2048 bytes, more than the 1000-byte budget/);
});
