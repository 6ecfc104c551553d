import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextValues, deriveModelActions, MODEL_CONTEXT_KEYS, missingActionNotes, modelFacts, needsLayerLookup } from '../../../src/extension/editor/modelActions';
import type { ModelActions } from '../../../src/protocol/webviewProtocol';
import { QUIET_JOB } from '../../../src/worker/jobs/JobContext';
import { quantizableLayers } from '../../../src/worker/jobs/quantizableLayers';
import { WorkerService } from '../../../src/worker/host/WorkerService';
import { fixture, npmModel } from '../support/paths';

const service = new WorkerService();

/** What the editor derives for a real file: its summary, then its rewritable layers when the graph has MatMul/Gemm. */
async function actionsOf(path: string): Promise<{ actions: ModelActions; looked: boolean }> {
  const summary = await service.inspect({ path }, QUIET_JOB);
  const looked = needsLayerLookup(summary);
  const layers = looked ? (await quantizableLayers(path)).length : undefined;
  return { actions: deriveModelActions(modelFacts(summary, layers)), looked };
}

function offered(a: ModelActions): string[] {
  return Object.entries(a).filter(([, s]) => s.offered).map(([k]) => k).sort();
}

test('the Silero VAD model offers neither Calibrate, Quantize nor Prune, and says why', async () => {
  const { actions, looked } = await actionsOf(npmModel('@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx'));
  // Its main graph is an If whose branches hold the network: no MatMul to look up.
  assert.equal(looked, false);
  assert.deepEqual(offered(actions), ['benchmark', 'profile', 'showText']);
  assert.ok(!actions.calibrate.offered);
  assert.match(actions.calibrate.reason, /^silero_vad_v5\.onnx has no MatMul or Gemm with a constant weight in its main graph \(1 If node holds subgraphs, which are not tapped\)$/);
  assert.ok(!actions.quantize.offered);
  assert.match(actions.quantize.reason, /constant 2-D float32 weight/);
  const notes = missingActionNotes(actions);
  assert.equal(notes.length, 2, notes.join('\n'));
  assert.match(notes[0], /^Calibrate is not offered: silero_vad_v5\.onnx has no MatMul/);
  assert.match(notes[1], /^Quantize and Prune are not offered: /);
  const keys = contextValues('onnx', actions);
  assert.equal(keys[MODEL_CONTEXT_KEYS.format], 'onnx');
  assert.equal(keys[MODEL_CONTEXT_KEYS.canCalibrate], false);
  assert.equal(keys[MODEL_CONTEXT_KEYS.canQuantize], false);
  assert.equal(keys[MODEL_CONTEXT_KEYS.canPrune], false);
  assert.equal(keys[MODEL_CONTEXT_KEYS.canBenchmark], true);
  assert.equal(keys[MODEL_CONTEXT_KEYS.canProfile], true);
});

test('a small MLP and the PP-OCRv4 recognizer (Constant-node weights) offer every action', async () => {
  for (const path of [fixture('workspace', 'tiny_mlp.onnx'), npmModel('@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx')]) {
    const { actions, looked } = await actionsOf(path);
    assert.equal(looked, true, path);
    assert.deepEqual(offered(actions), ['benchmark', 'calibrate', 'profile', 'prune', 'quantize', 'showText'], path);
    assert.deepEqual(missingActionNotes(actions), []);
  }
});

test('a safetensors checkpoint offers Profile and the text view; the rest need ONNX', async () => {
  const { actions } = await actionsOf(fixture('safetensors', 'all_dtypes.safetensors'));
  assert.deepEqual(offered(actions), ['profile', 'showText']);
  assert.ok(!actions.calibrate.offered);
  assert.equal(actions.calibrate.reason, 'all_dtypes.safetensors is a safetensors checkpoint without a language model Quantscope can build (config.json beside its weights, or a llama or qwen2 GGUF); this needs an ONNX model');
  assert.deepEqual(missingActionNotes(actions), [`Calibrate, Quantize, Prune and Benchmark are not offered: ${actions.calibrate.reason}.`]);
  assert.equal(contextValues('safetensors', actions)[MODEL_CONTEXT_KEYS.canExport], false);
});

test('a language model\'s weights (Hugging Face safetensors, a GGUF) offer every action, Export to ONNX among them', async () => {
  for (const path of [fixture('decoder', 'llama', 'model.safetensors'), fixture('decoder', 'llama_gqa', 'model.safetensors.index.json'), fixture('decoder', 'qwen2_q8.gguf')]) {
    const summary = await service.inspect({ path }, QUIET_JOB);
    assert.ok(summary.decoder, path);
    const actions = deriveModelActions(modelFacts(summary));
    assert.deepEqual(offered(actions), ['benchmark', 'calibrate', 'exportOnnx', 'profile', 'prune', 'quantize', 'quantizeGguf', 'showText'], path);
    assert.deepEqual(missingActionNotes(actions), []);
    const keys = contextValues(summary.format, actions);
    assert.deepEqual([keys[MODEL_CONTEXT_KEYS.canExport], keys[MODEL_CONTEXT_KEYS.canQuantize], keys[MODEL_CONTEXT_KEYS.canBenchmark]], [true, true, true]);
  }
  const llama = await service.inspect({ path: fixture('decoder', 'llama', 'model.safetensors') }, QUIET_JOB);
  assert.deepEqual(llama.decoder && [llama.decoder.family, llama.decoder.layers], ['llama', 2]);
});

test('the derivation reads the facts it is given: runtime refusal, half-precision weights, a failed lookup', () => {
  const base = { fileName: 'm.onnx', format: 'onnx', tensorCount: 3, opTypes: { MatMul: 2 }, otherFloatWeights: false };
  // ONNX Runtime refused the model: nothing that runs it is offered, the rewrites still are.
  const refused = deriveModelActions({ ...base, weightLayers: 2, runtimeError: 'bad opset' });
  assert.deepEqual(offered(refused), ['profile', 'prune', 'quantize', 'showText']);
  assert.ok(!refused.benchmark.offered && refused.benchmark.reason === 'ONNX Runtime could not load m.onnx: bad opset');
  // float16 weights: calibration taps them, the float32 rewrites do not.
  const half = deriveModelActions({ ...base, weightLayers: 0, otherFloatWeights: true });
  assert.deepEqual(offered(half), ['benchmark', 'calibrate', 'profile', 'showText']);
  // MatMuls over activations only: nothing to calibrate either.
  const attention = deriveModelActions({ ...base, weightLayers: 0 });
  assert.ok(!attention.calibrate.offered);
  assert.equal(attention.calibrate.reason, 'm.onnx has no MatMul or Gemm with a constant weight in its main graph');
  const failed = deriveModelActions({ ...base, layerLookupError: 'index out of range' });
  assert.ok(!failed.quantize.offered && /could not be listed: index out of range/.test(failed.quantize.reason));
  assert.ok(failed.calibrate.offered);
  const empty = deriveModelActions({ ...base, tensorCount: 0, weightLayers: 0 });
  assert.ok(!empty.profile.offered && empty.profile.reason === 'm.onnx has no tensors to profile');
  // No active model: every key is unset, so `when` clauses that test them are false.
  assert.ok(Object.values(contextValues(undefined, undefined)).every((v) => v === undefined));
});
