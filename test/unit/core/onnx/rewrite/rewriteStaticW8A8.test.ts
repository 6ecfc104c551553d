import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxModel } from '../../../../../src/core/onnx/OnnxModel';
import { ElementType } from '../../../../../src/core/onnx/onnxMessages';
import { NameAllocator } from '../../../../../src/core/onnx/rewrite/NameAllocator';
import type { RewriteRecord } from '../../../../../src/core/onnx/rewrite/RewriteRecord';
import { ActivationQdq, activationQuant, rewriteStaticW8A8 } from '../../../../../src/core/onnx/rewrite/staticW8A8';
import { canonicalWeight, findWeightTargets } from '../../../../../src/core/onnx/rewrite/weightTargets';
import type { QuantizedWeight } from '../../../../../src/core/quant/QuantScheme';
import { dequantize } from '../../../../../src/core/quant/dequantize';
import { roundHalfEven } from '../../../../../src/core/quant/roundHalfEven';
import { quantizeRtn } from '../../../../../src/core/quant/rtn';
import { calibrate } from '../../../../../src/worker/jobs/calibrate';
import { QUIET_JOB } from '../../../../../src/worker/jobs/JobContext';
import type { RunTensor } from '../../../../../src/worker/ort';
import { fixture } from '../../../support/paths';
import { normalFloats, relativeL2, runWith } from '../../../support/rewriteSupport';

const TINY = fixture('workspace', 'tiny_mlp.onnx');
const TRANSFORMER = fixture('onnx', 'transformer.onnx');
const PRENORM = fixture('smooth', 'prenorm.onnx');
const BASIC = { optimization: 'basic' } as const;
const ALL = { optimization: 'all' } as const;

/** One absmax per activation: the max over every channel of every layer that reads it (layers sharing X agree). */
async function activationAbsmax(model: OnnxModel, feeds: readonly Record<string, RunTensor>[]): Promise<Map<string, number>> {
  const cal = await calibrate(model, { feeds }, QUIET_JOB);
  const byLayer = new Map(cal.layers.map((l) => [l.layer, l.absmax]));
  const out = new Map<string, number>();
  for (const t of findWeightTargets(model).targets) {
    const absmax = byLayer.get(t.layer);
    assert.ok(absmax, `calibration covers ${t.layer}`);
    out.set(t.activation, Math.max(out.get(t.activation) ?? 0, ...absmax));
  }
  return out;
}

interface StaticResult {
  readonly model: OnnxModel;
  readonly records: RewriteRecord[];
  /** Per layer: the weight RTN produced, for the JS reference. */
  readonly weights: Map<string, QuantizedWeight>;
}

/** Rewrites every target of `source` to static W8A8 (symmetric per-channel weights) with the calibrated scales. */
function rewriteAll(source: OnnxModel, absmax: ReadonlyMap<string, number>): StaticResult {
  const model = source.clone();
  const names = new NameAllocator(model);
  const shared = new ActivationQdq(model, names);
  const records: RewriteRecord[] = [];
  const weights = new Map<string, QuantizedWeight>();
  for (const t of findWeightTargets(model).targets) {
    const q = quantizeRtn({ rows: t.outFeatures, cols: t.inFeatures, data: canonicalWeight(model, t) }, { bits: 8, symmetric: true, granularity: 'channel' });
    weights.set(t.layer, q);
    records.push(rewriteStaticW8A8(model, t, q, activationQuant(absmax.get(t.activation) ?? 0), names, shared));
  }
  return { model, records, weights };
}

/** ONNX QuantizeLinear → DequantizeLinear (uint8) as the spec defines it, written out independently. */
function fakeQuant(x: number, scale: number, zp: number): number {
  const q = Math.min(255, Math.max(0, roundHalfEven(Math.fround(x / scale)) + zp));
  return Math.fround((q - zp) * scale);
}

/** y[r, n] = Σ_k x[r, k]·W[n, k] + b[n] with W canonical [out, in], in float64. */
function linear(x: ArrayLike<number>, rowsX: number, W: ArrayLike<number>, out: number, inF: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rowsX * out);
  for (let r = 0; r < rowsX; r++) {
    for (let n = 0; n < out; n++) {
      let s = 0;
      for (let k = 0; k < inF; k++) s += x[r * inF + k] * W[n * inF + k];
      y[r * out + n] = s + b[n];
    }
  }
  return y;
}

test('activationQuant: symmetric uint8 around 128, scale absmax/127, scale 1 for a silent activation', () => {
  assert.deepEqual(activationQuant(12.7), { scale: Math.fround(0.1), zeroPoint: 128 });
  assert.deepEqual(activationQuant(0), { scale: 1, zeroPoint: 128 });
  assert.throws(() => activationQuant(Number.NaN), RangeError);
  assert.throws(() => activationQuant(-1), RangeError);
});

test('static W8A8 on tiny_mlp equals a pure-JS forward pass of the quantized arithmetic', async () => {
  const source = await OnnxModel.load(TINY);
  const absmax = await activationAbsmax(source, [1, 2, 3].map((s) => ({ x: normalFloats([8, 16], s) })));
  const { model, records, weights } = rewriteAll(source, absmax);
  assert.equal(records.length, 2);
  assert.ok(records.every((r) => r.kind === 'static' && r.container === 'uint8' && r.activation?.zeroPoint === 128));
  assert.equal(model.findInitializer('fc1.weight'), undefined, 'the float weight is gone');
  const dq = model.nodes.filter((n) => n.opType === 'DequantizeLinear');
  assert.equal(dq.length, 4, 'one DequantizeLinear per weight and per activation');
  assert.equal(model.nodes.filter((n) => n.opType === 'QuantizeLinear').length, 2);
  const wdq = dq.find((n) => n.input?.[0] === 'fc1.weight_quantized');
  assert.equal(wdq?.attribute?.find((a) => a.name === 'axis')?.i, '1', 'MatMul [in, out]: scales along axis 1');
  assert.equal(model.findInitializer('fc1.weight_quantized')?.dataType, ElementType.UINT8);

  // Inputs a little beyond the calibrated range, so saturation is exercised too.
  const x = normalFloats([6, 16], 9);
  const xs = x.data as Float32Array;
  xs[0] = 1.5 * (absmax.get('x') ?? 0);
  const [a1, a2] = records.map((r) => r.activation ?? { scale: 0, zeroPoint: 0 });
  assert.equal(a1.scale, Math.fround((absmax.get('x') ?? 0) / 127));
  const b1 = source.getFloatTensor('fc1.bias'), b2 = source.getFloatTensor('fc2.bias');
  const W1 = dequantize(weights.get('fc1/MatMul') as QuantizedWeight), W2 = dequantize(weights.get('fc2/MatMul') as QuantizedWeight);
  const x1 = Array.from(xs, (v) => fakeQuant(v, a1.scale, 128));
  // ORT computes float32 values: round the hidden layer before it is quantized again.
  const h = Array.from(linear(x1, 6, W1, 8, 16, b1), (v) => Math.fround(Math.max(0, v)));
  const h1 = h.map((v) => fakeQuant(v, a2.scale, 128));
  const want = linear(h1, 6, W2, 4, 8, b2);

  const basic = await runWith(model.toBytes(), { x }, BASIC);
  const jsOut = { y: { type: 'float32', dims: [6, 4], data: Float32Array.from(want) } };
  const err = relativeL2(basic, jsOut);
  assert.ok(err < 1e-5, `'basic' vs JS: relative error ${err}`);
  const fused = await runWith(model.toBytes(), { x }, ALL);
  const errAll = relativeL2(fused, jsOut);
  assert.ok(errAll < 1e-5, `'all' vs JS: relative error ${errAll}`);
  // Against fp32 on inputs inside the calibrated range (the saturated row above would dominate).
  const inRange = { x: normalFloats([6, 16], 10) };
  const vsFloat = relativeL2(await runWith(model.toBytes(), inRange, BASIC), await runWith(TINY, inRange));
  assert.ok(vsFloat < 5e-2, `vs fp32: relative error ${vsFloat}`);
  console.log(`tiny_mlp static W8A8: basic vs JS ${err.toExponential(2)}, all vs JS ${errAll.toExponential(2)}, vs fp32 ${vsFloat.toExponential(2)}`);
});

for (const [name, path] of [['transformer', TRANSFORMER], ['prenorm', PRENORM]] as const) {
  test(`static W8A8 on ${name}: runs fused ('all') and unfused ('basic') alike, close to fp32`, async () => {
    const source = await OnnxModel.load(path);
    const absmax = await activationAbsmax(source, [1, 2, 3, 4].map((s) => ({ x: normalFloats([2, 16, 32], 100 + s) })));
    const { model, records } = rewriteAll(source, absmax);
    assert.equal(records.length, findWeightTargets(source).targets.length);
    assert.equal(model.opsetVersion(), source.opsetVersion(), 'the default opset is never raised');
    const feeds = { x: normalFloats([2, 16, 32], 7) };
    const basic = await runWith(model.toBytes(), feeds, BASIC);
    const fused = await runWith(model.toBytes(), feeds, ALL);
    const reference = await runWith(path, feeds);
    const allVsBasic = relativeL2(fused, basic);
    const vsFloat = relativeL2(basic, reference);
    console.log(`${name} static W8A8 (${records.length} layers): all vs basic ${allVsBasic.toExponential(2)}, basic vs fp32 ${vsFloat.toExponential(2)}, all vs fp32 ${relativeL2(fused, reference).toExponential(2)}`);
    assert.ok(allVsBasic < 1e-3, `'all' vs 'basic': relative error ${allVsBasic}`);
    assert.ok(vsFloat > 0 && vsFloat < 5e-2, `vs fp32: relative error ${vsFloat}`);
  });
}

test('static W8A8 on prenorm: q, k and v share one QuantizeLinear of the normed activation; the node order stays topological', async () => {
  const source = await OnnxModel.load(PRENORM);
  const absmax = await activationAbsmax(source, [{ x: normalFloats([2, 16, 32], 1) }]);
  const { model, records } = rewriteAll(source, absmax);
  for (const b of [0, 1]) {
    const ln = `/blocks.${b}/ln/LayerNormalization_output_0`;
    const q = model.nodes.filter((n) => n.opType === 'QuantizeLinear' && n.input?.[0] === ln);
    assert.equal(q.length, 1, `block ${b}: one QuantizeLinear for q, k, v`);
    const dq = model.nodes.find((n) => n.opType === 'DequantizeLinear' && n.input?.[0] === q[0].output?.[0]);
    const readers = model.nodes.filter((n) => n.opType === 'MatMul' && n.input?.[0] === dq?.output?.[0]).map((n) => n.name);
    assert.deepEqual(readers, ['q', 'k', 'v'].map((p) => `/blocks.${b}/${p}/MatMul`));
    const qkv = records.filter((r) => /\/blocks\.\d\/[qkv]\/MatMul$/.test(r.layer) && r.layer.includes(`blocks.${b}`));
    assert.equal(new Set(qkv.map((r) => r.activation?.scale)).size, 1, 'one scale for the shared activation');
  }
  // Every value is defined before it is read.
  const defined = new Set([...(model.graph.input ?? []).map((v) => v.name), ...(model.graph.initializer ?? []).map((t) => t.name)]);
  for (const n of model.nodes) {
    for (const i of n.input ?? []) if (i) assert.ok(defined.has(i), `${n.name ?? ''} reads ${i} before it is defined`);
    for (const o of n.output ?? []) defined.add(o);
  }
});

test('a shared activation keeps the scale of its first layer', async () => {
  const model = await OnnxModel.load(PRENORM);
  const names = new NameAllocator(model);
  const shared = new ActivationQdq(model, names);
  const ln = '/blocks.0/ln/LayerNormalization_output_0';
  const a = shared.dequantized(ln, { scale: 0.5, zeroPoint: 128 });
  const b = shared.dequantized(ln, { scale: 0.25, zeroPoint: 128 });
  assert.equal(a, b);
  assert.deepEqual(shared.quantOf(ln), { scale: 0.5, zeroPoint: 128 });
});

test('below opset 13 static W8A8 takes the contrib QuantizeLinear/DequantizeLinear and never raises the opset; Gemm transB gets axis 0', async () => {
  const model = await OnnxModel.load(TINY);
  const imp = model.proto.opsetImport?.find((o) => (o.domain ?? '') === '');
  assert.ok(imp);
  imp.version = '12';
  const names = new NameAllocator(model);
  const [t] = findWeightTargets(model).targets;
  const q = quantizeRtn({ rows: t.outFeatures, cols: t.inFeatures, data: canonicalWeight(model, t) }, { bits: 8, symmetric: true, granularity: 'channel' });
  const source = model.clone();
  rewriteStaticW8A8(model, t, q, activationQuant(3), names, new ActivationQdq(model, names));
  assert.equal(model.opsetVersion(), 12);
  const dqs = model.nodes.filter((n) => n.opType === 'DequantizeLinear');
  assert.ok(dqs.some((n) => n.domain === 'com.microsoft'), 'per-axis DequantizeLinear comes from com.microsoft below opset 13');
  assert.ok(model.nodes.some((n) => n.opType === 'QuantizeLinear' && (n.domain ?? '') === ''), 'per-tensor QuantizeLinear is standard from opset 10');
  const x = normalFloats([4, t.inFeatures], 5);
  const [name] = Object.keys(await runWith(source.toBytes(), { [t.activation]: x }));
  const y = (await runWith(model.toBytes(), { [t.activation]: x }))[name].data as Float32Array;
  const y0 = (await runWith(source.toBytes(), { [t.activation]: x }))[name].data as Float32Array;
  let num = 0, den = 0;
  for (let i = 0; i < y0.length; i++) { num += (y[i] - y0[i]) ** 2; den += y0[i] ** 2; }
  assert.ok(Math.sqrt(num / den) < 0.05, `opset-12 static W8A8 runs in ONNX Runtime: rel L2 ${Math.sqrt(num / den)}`);
  const names2 = new NameAllocator(model);
  const [t2] = findWeightTargets(model).targets;
  assert.throws(() => rewriteStaticW8A8(model, t2, quantizeRtn({ rows: t2.outFeatures, cols: t2.inFeatures, data: canonicalWeight(model, t2) }, { bits: 4, symmetric: true, granularity: 'channel' }), activationQuant(3), names2, new ActivationQdq(model, names2)), /8-bit/);

  const tr = await OnnxModel.load(TRANSFORMER);
  const trNames = new NameAllocator(tr);
  const gemm = findWeightTargets(tr).targets.find((x) => x.opType === 'Gemm');
  assert.ok(gemm?.transposed);
  const gq = quantizeRtn({ rows: gemm.outFeatures, cols: gemm.inFeatures, data: canonicalWeight(tr, gemm) }, { bits: 8, symmetric: true, granularity: 'channel' });
  rewriteStaticW8A8(tr, gemm, gq, activationQuant(2), trNames, new ActivationQdq(tr, trNames));
  const dq = tr.nodes.find((n) => n.opType === 'DequantizeLinear' && n.input?.[0]?.startsWith('self_attn.out_proj.weight'));
  assert.equal(dq?.attribute?.find((a) => a.name === 'axis')?.i, '0');
  assert.equal(tr.nodes.find((n) => n.name === '/self_attn/Gemm')?.opType, 'Gemm', 'the Gemm keeps its name, transB and bias');
});
