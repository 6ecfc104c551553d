import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildCalibrationTaps, groupTapsByMemory, type CalibrationTap } from '../../../../src/core/calibration/calibrationTaps';
import { OnnxModel, Attr } from '../../../../src/core/onnx/OnnxModel';
import { editType } from '../../../../src/core/onnx/onnxEditSchema';
import { ElementType, type ModelMessage } from '../../../../src/core/onnx/onnxMessages';
import type { RunTensor } from '../../../../src/worker/ort';
import { fixture, npmModel } from '../../support/paths';
import { randomFloats, runOnce } from '../../support/runModel';

/** XᵀX of a row-major rows×d matrix, in Float64. */
function gramOf(x: Float32Array, d: number): Float64Array {
  const rows = x.length / d;
  const g = new Float64Array(d * d);
  for (let r = 0; r < rows; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) g[i * d + j] += x[r * d + i] * x[r * d + j];
  return g;
}

function absmaxOf(x: Float32Array, d: number): Float32Array {
  const m = new Float32Array(d);
  for (let k = 0; k < x.length; k++) m[k % d] = Math.max(m[k % d], Math.abs(x[k]));
  return m;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= rel * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Runs the tapped model and checks every tap against X computed by exposing it as an output of the original. */
async function checkTaps(model: OnnxModel, taps: readonly CalibrationTap[], tapped: OnnxModel, feeds: Record<string, RunTensor>, xOf: (t: CalibrationTap, run: Record<string, RunTensor>) => Float32Array): Promise<void> {
  const exposed = model.clone();
  for (const t of taps) exposed.addOutput(t.activation, ElementType.FLOAT);
  const plain = await runOnce(exposed.toBytes(), feeds);
  const out = await runOnce(tapped.toBytes(), feeds);
  for (const t of taps) {
    const x = xOf(t, plain);
    assertClose(out[t.outputs.gram ?? ''].data as Float32Array, gramOf(x, t.d), 1e-5, `${t.layer} gram`);
    assert.deepEqual(out[t.outputs.absmax].data, absmaxOf(x, t.d), `${t.layer} absmax`);
    assert.deepEqual(out[t.outputs.rows].data, BigInt64Array.from([BigInt(x.length / t.d)]), `${t.layer} rows`);
  }
}

test('taps on tiny_mlp compute XᵀX, absmax and rows as JavaScript does', async () => {
  const model = await OnnxModel.load(fixture('workspace', 'tiny_mlp.onnx'));
  const { model: tapped, taps, skipped } = buildCalibrationTaps(model);
  assert.deepEqual(taps.map((t) => [t.layer, t.opType, t.weight, t.weightShape, t.d]), [
    ['fc1/MatMul', 'MatMul', 'fc1.weight', [16, 8], 16],
    ['fc2/MatMul', 'MatMul', 'fc2.weight', [8, 4], 8],
  ]);
  assert.deepEqual(skipped, []);
  assert.equal(model.nodes.length, 5, 'the source model is not changed');
  const x = randomFloats([5, 16], 11);
  await checkTaps(model, taps, tapped, { x }, (t, run) => run[t.activation].data as Float32Array);
  // The first layer's X is the input itself.
  const out = await runOnce(tapped.toBytes(), { x });
  assertClose(out['fc1/MatMul/gram'].data as Float32Array, gramOf(x.data as Float32Array, 16), 1e-5, 'gram of the input');
});

test('with opset 18 ReduceMax takes its axes as an input', async () => {
  const model = await OnnxModel.load(fixture('workspace', 'tiny_mlp.onnx'));
  const op = model.proto.opsetImport?.find((o) => (o.domain ?? '') === '');
  assert.ok(op);
  op.version = '18';
  const { model: tapped, taps } = buildCalibrationTaps(model);
  const reduce = tapped.nodes.filter((n) => n.opType === 'ReduceMax');
  assert.equal(reduce.length, 2);
  assert.ok(reduce.every((n) => n.input?.length === 2 && !n.attribute?.some((a) => a.name === 'axes')));
  await checkTaps(model, taps, tapped, { x: randomFloats([3, 16], 12) }, (t, run) => run[t.activation].data as Float32Array);
});

test('taps on the transformer fixture cover MatMul and Gemm(transB) weights and skip activation products', async () => {
  const model = await OnnxModel.load(fixture('onnx', 'transformer.onnx'));
  const { model: tapped, taps, skipped } = buildCalibrationTaps(model);
  assert.deepEqual(taps.map((t) => [t.layer, t.d, t.weightTransposed]), [['/self_attn/MatMul', 32, false], ['/self_attn/Gemm', 32, true], ['/linear1/MatMul', 32, false], ['/linear2/MatMul', 64, false]]);
  assert.deepEqual(skipped.map((s) => s.reason), ['both inputs are activations', 'both inputs are activations']);
  await checkTaps(model, taps, tapped, { x: randomFloats([2, 5, 32], 13) }, (t, run) => run[t.activation].data as Float32Array);
});

test('Gemm with transA taps the transposed A', async () => {
  const K = 6;
  const M = 3;
  const N = 4;
  const w = randomFloats([K, N], 14).data as Float32Array;
  const proto: ModelMessage = {
    irVersion: '7', opsetImport: [{ domain: '', version: '11' }],
    graph: {
      name: 'g',
      node: [{ name: 'gemm', opType: 'Gemm', input: ['a', 'w'], output: ['y'], attribute: [Attr.int('transA', 1)] }],
      initializer: [{ name: 'w', dataType: ElementType.FLOAT, dims: [String(K), String(N)], rawData: new Uint8Array(w.buffer) }],
      input: [{ name: 'a', type: { tensorType: { elemType: ElementType.FLOAT, shape: { dim: [{ dimValue: String(K) }, { dimValue: String(M) }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: ElementType.FLOAT, shape: { dim: [{ dimValue: String(M) }, { dimValue: String(N) }] } } } }],
    },
  };
  const T = editType('ModelProto');
  const model = OnnxModel.fromBytes(T.encode(T.fromObject(proto)).finish());
  const { model: tapped, taps } = buildCalibrationTaps(model);
  assert.deepEqual(taps.map((t) => t.d), [K]);
  const a = randomFloats([K, M], 15);
  await checkTaps(model, taps, tapped, { a }, () => {
    const src = a.data as Float32Array;
    const xt = new Float32Array(K * M);
    for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) xt[m * K + k] = src[k * M + m];
    return xt;
  });
});

test('Silero (weights inside If subgraphs) gets no taps and still runs with identical outputs', async () => {
  const path = npmModel('@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
  const model = await OnnxModel.load(path);
  const { model: tapped, taps } = buildCalibrationTaps(model);
  assert.equal(taps.length, 0);
  const feeds: Record<string, RunTensor> = {
    input: randomFloats([1, 512], 16),
    state: { type: 'float32', dims: [2, 1, 128], data: new Float32Array(256) },
    sr: { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) },
  };
  const a = await runOnce(path, feeds);
  const b = await runOnce(tapped.toBytes(), feeds);
  assert.deepEqual(b.output.data, a.output.data);
});

test('the appendix fragment after the unchanged file bytes is the tapped model', async () => {
  const path = fixture('onnx', 'transformer.onnx');
  const model = await OnnxModel.load(path);
  const tapped = buildCalibrationTaps(model);
  const file = new Uint8Array(readFileSync(path));
  const merged = new Uint8Array(file.length + tapped.appendix.length);
  merged.set(file);
  merged.set(tapped.appendix, file.length);
  const feeds = { x: randomFloats([1, 4, 32], 17) };
  const a = await runOnce(merged, feeds);
  const b = await runOnce(tapped.model.toBytes(), feeds);
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(a)) assert.deepEqual(a[k].data, b[k].data, k);
  assert.equal(Object.keys(a).length, 1 + 3 * 4);
});

test('a model computing in float64 is tapped through a Cast to float', async () => {
  const K = 5;
  const N = 3;
  const w = Float64Array.from({ length: K * N }, (_, i) => (i % 7) / 7 - 0.5);
  const dim = (d: number | string): { dimValue?: string; dimParam?: string } => (typeof d === 'number' ? { dimValue: String(d) } : { dimParam: d });
  const proto: ModelMessage = {
    irVersion: '8', opsetImport: [{ domain: '', version: '17' }],
    graph: {
      name: 'g',
      node: [{ name: 'mm', opType: 'MatMul', input: ['x', 'w'], output: ['y'] }],
      initializer: [{ name: 'w', dataType: ElementType.DOUBLE, dims: [String(K), String(N)], rawData: new Uint8Array(w.buffer) }],
      input: [{ name: 'x', type: { tensorType: { elemType: ElementType.DOUBLE, shape: { dim: ['n', K].map(dim) } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: ElementType.DOUBLE, shape: { dim: ['n', N].map(dim) } } } }],
    },
  };
  const T = editType('ModelProto');
  const model = OnnxModel.fromBytes(T.encode(T.fromObject(proto)).finish());
  const { model: tapped, taps } = buildCalibrationTaps(model);
  assert.ok(tapped.nodes.some((n) => n.opType === 'Cast'));
  const x = Float64Array.from({ length: 4 * K }, (_, i) => Math.sin(i) * 3);
  const out = await runOnce(tapped.toBytes(), { x: { type: 'float64', dims: [4, K], data: x } });
  const x32 = Float32Array.from(x);
  assertClose(out[taps[0].outputs.gram ?? ''].data as Float32Array, gramOf(x32, K), 1e-5, 'gram');
  assert.deepEqual(out[taps[0].outputs.absmax].data, absmaxOf(x32, K));
});

test('groupTapsByMemory packs layers into passes that fit the budget', async () => {
  const { taps } = buildCalibrationTaps(await OnnxModel.load(fixture('onnx', 'transformer.onnx')));
  // d = 32, 32, 32, 64: 8 KiB, 8 KiB, 8 KiB and 32 KiB of Float64.
  assert.deepEqual(groupTapsByMemory(taps, 32768), [['/self_attn/MatMul', '/self_attn/Gemm', '/linear1/MatMul'], ['/linear2/MatMul']]);
  assert.deepEqual(groupTapsByMemory(taps, 1 << 20), [taps.map((t) => t.layer)]);
  assert.throws(() => groupTapsByMemory(taps, 10000), /linear2/);
});
