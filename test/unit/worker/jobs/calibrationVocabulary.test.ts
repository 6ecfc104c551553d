import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { calibrationFiles, declaredInputs, SyntheticInputs } from '../../../../src/core/calibration/calibrationInputs';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { pruneParamsFromArgs } from '../../../../src/cli/pruneCommand';
import { quantizeParamsFromArgs, runQuantize } from '../../../../src/cli/quantizeCommand';
import type { QuantizeReport } from '../../../../src/protocol/quantizeTypes';
import { transformInputs as inputBatches } from '../../../../src/worker/jobs/transformInputs';
import { captureOutput } from '../../support/captureOutput';
import { npyInt64 } from '../../support/npyInt64';
import { fixture } from '../../support/paths';
import { runOnce } from '../../support/runModel';

const TINY_LM = fixture('lm', 'tiny_lm.onnx');
const TEXT = fixture('lm', 'calibration.txt');
const TOKENIZER = fixture('lm', 'tokenizer.json');
/** Rows of tiny_lm's embedding (make_lm.py's VOCAB_SIZE). */
const TINY_LM_VOCAB = 240;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'calibration-vocab-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('generated token ids come from the vocabulary the embedding holds, whatever vocabSize asks for', async () => {
  const model = await OnnxModel.load(TINY_LM);
  const specs = declaredInputs(model);
  assert.equal(specs[0].vocabSize, TINY_LM_VOCAB);
  for (const vocabSize of [undefined, 1000, 100]) {
    const batch = new SyntheticInputs(specs, { batchSize: 4, sequenceLength: 256, vocabSize, seed: 3 }).next();
    const ids = batch.input_ids.data as BigInt64Array;
    const max = ids.reduce((m, v) => (v > m ? v : m), 0n);
    assert.ok(max < BigInt(Math.min(vocabSize ?? Infinity, TINY_LM_VOCAB)), `vocabSize ${vocabSize}: id ${max}`);
    // 1024 draws from [0, 240) reach above 200: the whole vocabulary is used, not a corner of it.
    if (vocabSize !== 100) assert.ok(max > 200n);
    const out = await runOnce(model.toBytes(), batch);
    assert.deepEqual(out.logits.dims, [4, 256, TINY_LM_VOCAB]);
  }
});

test('a built decoder runs on generated inputs: ids below its vocabulary, an empty KV cache, a mask as long as the sequence', async () => {
  const source = await openDecoderSource(fixture('decoder', 'qwen2'));
  const model = await buildDecoder(source);
  const specs = declaredInputs(model);
  assert.equal(specs.find((s) => s.name === 'input_ids')?.vocabSize, source.config.vocabSize);
  const batch = new SyntheticInputs(specs, { batchSize: 2, sequenceLength: 12 }).next();
  assert.deepEqual(batch['past_key_values.0.key'].dims, [2, source.config.numKvHeads, 0, source.config.headDim]);
  assert.deepEqual(batch.attention_mask.dims, [2, 12]);
  const out = await runOnce(model.toBytes(), batch);
  assert.deepEqual(out.logits.dims, [2, 12, source.config.vocabSize]);
  assert.deepEqual(out['present.1.value'].dims, [2, source.config.numKvHeads, 12, source.config.headDim]);
});

test('one calibration file of several sequences gives calibration and held-out batches, all from the file', async () => {
  const rows = 5;
  const seq = 16;
  const ids = Array.from({ length: rows * seq }, (_, i) => (i * 37) % TINY_LM_VOCAB);
  const file = join(dir, 'input_ids.npy');
  await writeFile(file, npyInt64(ids, [rows, seq]));
  const model = await OnnxModel.load(TINY_LM);

  const whole = await calibrationFiles([file], declaredInputs(model));
  assert.equal(whole.count, 1, 'without splitRows the file stays one batch');
  const split = await calibrationFiles([file], declaredInputs(model), { splitRows: true });
  assert.equal(split.count, rows);
  const third = await split.load(2);
  assert.deepEqual(third.input_ids.dims, [1, seq]);
  assert.deepEqual(Array.from(third.input_ids.data as BigInt64Array, Number), ids.slice(2 * seq, 3 * seq));

  const inputs = await inputBatches(model, { calibration: { file } }, true);
  assert.equal(inputs.calibSynthetic, false);
  assert.equal(inputs.heldOutSynthetic, false);
  assert.equal(inputs.calib?.length, rows - 1);
  assert.equal(inputs.heldOut.length, 1);
  assert.deepEqual(Array.from(inputs.heldOut[0].input_ids.data as BigInt64Array, Number), ids.slice((rows - 1) * seq));
  // Every batch runs: no generated ids outside the vocabulary anywhere.
  for (const b of [...(inputs.calib ?? []), ...inputs.heldOut]) await runOnce(model.toBytes(), b);
});

test('quantize and prune take --tokenizer for a .txt calibration file, and calibrate and validate on the text', async () => {
  const q = await quantizeParamsFromArgs([TINY_LM, '--method', 'gptq', '--bits', '4', '--calib', TEXT, '--tokenizer', TOKENIZER, '--seq', '16']);
  assert.deepEqual(q.calibration, { sequenceLength: 16, file: TEXT, tokenizer: TOKENIZER });
  const p = await pruneParamsFromArgs([TINY_LM, '--method', 'sparsegpt', '--calib', TEXT, '--tokenizer', TOKENIZER]);
  assert.deepEqual(p.calibration, { file: TEXT, tokenizer: TOKENIZER });
  await assert.rejects(quantizeParamsFromArgs([TINY_LM, '--method', 'rtn', '--bits', '8', '--tokenizer', TOKENIZER]), /--tokenizer goes with a \.txt calibration file/);

  const model = await OnnxModel.load(TINY_LM);
  await assert.rejects(inputBatches(model, { calibration: { file: TEXT } }, true), /calibration\.txt is text: calibrating on text needs the model's tokenizer\.json/);
  const inputs = await inputBatches(model, { calibration: { file: TEXT, tokenizer: TOKENIZER, sequenceLength: 16, samples: 4 } }, true);
  assert.equal(inputs.calib?.length, 4);
  assert.equal(inputs.heldOut.length, 2);
  assert.equal(inputs.calibSynthetic || inputs.heldOutSynthetic, false);
  assert.deepEqual(inputs.heldOut[0].input_ids.dims, [1, 16]);
  assert.notDeepEqual(inputs.heldOut[0].input_ids.data, inputs.calib?.[0].input_ids.data);

  const out = join(dir, 'tiny_lm.q4.onnx');
  const run = await captureOutput((output) => runQuantize([TINY_LM, '--method', 'gptq', '--bits', '4', '--group', '32', '--format', 'nbits', '--calib', TEXT, '--tokenizer', TOKENIZER, '--seq', '16', '-o', out, '--json'], true, output));
  assert.equal(run.code, 0, run.err);
  const report = JSON.parse(run.out) as QuantizeReport;
  assert.equal(report.validation.synthetic, false);
  assert.equal(report.validation.batches, 2);
});

test('token ids in a calibration file beyond the embedding are refused by name before ONNX Runtime runs', async () => {
  const file = join(dir, 'too_big.npy');
  await writeFile(file, npyInt64([1, 2, 545, 3], [1, 4]));
  const model = await OnnxModel.load(TINY_LM);
  const files = await calibrationFiles([file], declaredInputs(model));
  await assert.rejects(files.load(0), /too_big\.npy: input_ids holds token id 545, but the model's embedding has 240 rows \(ids 0 to 239\)/);
});
