import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { WorkerService } from '../../../../src/worker/host/WorkerService';
import { fixture, npmModel } from '../../support/paths';

const service = new WorkerService();

test('inspect lists an ONNX model and takes its signature from ONNX Runtime', async () => {
  const s = await service.inspect({ path: fixture('workspace', 'tiny_mlp.onnx') }, QUIET_JOB);
  assert.equal(s.format, 'onnx');
  assert.equal(s.tensors.length, 4);
  assert.equal(s.parameterCount, 16 * 8 + 8 + 8 * 4 + 4);
  assert.deepEqual(s.dtypes, [{ dtype: 'F32', tensors: 4, elements: 172, byteLength: 688 }]);
  assert.deepEqual(s.inputs, [{ name: 'x', kind: 'tensor', type: 'float32', shape: ['batch', 16] }]);
  assert.deepEqual(s.outputs, [{ name: 'y', kind: 'tensor', type: 'float32', shape: ['batch', 4] }]);
  assert.equal(s.graph?.nodes, 5);
  assert.equal(s.graph?.opTypes.MatMul, 2);
  assert.match(s.runtime ?? '', /^1\.30\./);
});

test('inspect of the real Silero VAD model reports its three inputs and two outputs', async () => {
  const s = await service.inspect({ path: npmModel('@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx') }, QUIET_JOB);
  assert.deepEqual(s.inputs.map((i) => i.name), ['input', 'state', 'sr']);
  assert.deepEqual(s.outputs.map((o) => o.name), ['output', 'stateN']);
  assert.equal(s.inputs[2].type, 'int64');
  assert.ok(s.parameterCount > 100_000, `Silero has ~300k parameters, got ${s.parameterCount}`);
});

test('inspect of a truncated model fails with a FormatError that names the file', async () => {
  await assert.rejects(service.inspect({ path: fixture('workspace', 'broken.onnx') }, QUIET_JOB), (e: unknown) => {
    assert.ok(isFormatError(e), `a FormatError, got ${String(e)}`);
    assert.match((e as Error).message, /broken\.onnx/);
    return true;
  });
});

test('inspect of a missing file fails with a FormatError', async () => {
  await assert.rejects(service.inspect({ path: fixture('workspace', 'does-not-exist.onnx') }, QUIET_JOB), (e: unknown) => isFormatError(e));
});

test('modelText prints the signature, the nodes in order and every tensor', async () => {
  const { text } = await service.modelText({ path: fixture('workspace', 'tiny_mlp.onnx') });
  assert.match(text, /^model tiny_mlp\.onnx$/m);
  assert.match(text, /^input x: float32\[batch, 16\]$/m);
  assert.match(text, /^node fc1\/MatMul MatMul\(x, fc1\.weight\) -> h0$/m);
  assert.match(text, /^tensor fc2\.weight: F32\[8, 4\]$/m);
  const nodes = text.split('\n').filter((l) => l.startsWith('node '));
  assert.deepEqual(nodes.map((l) => l.split(' ')[1]), ['fc1/MatMul', 'fc1/Add', 'relu', 'fc2/MatMul', 'fc2/Add']);
});
