import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MatrixLike } from '../../../../../src/core/linalg/Matrix';
import { OnnxModel } from '../../../../../src/core/onnx/OnnxModel';
import { ElementType } from '../../../../../src/core/onnx/onnxMessages';
import { rewriteDynamicW8A8 } from '../../../../../src/core/onnx/rewrite/dynamicW8A8';
import { outlierChannels, rewriteInt8Decomposition, type DecompositionMode } from '../../../../../src/core/onnx/rewrite/int8Decomposition';
import { NameAllocator } from '../../../../../src/core/onnx/rewrite/NameAllocator';
import type { RewriteRecord } from '../../../../../src/core/onnx/rewrite/RewriteRecord';
import { ActivationQdq, activationQuant, rewriteStaticW8A8, type ActivationQuant } from '../../../../../src/core/onnx/rewrite/staticW8A8';
import { canonicalWeight, findWeightTargets, type WeightTarget } from '../../../../../src/core/onnx/rewrite/weightTargets';
import { layoutFor, type QuantizedWeight } from '../../../../../src/core/quant/QuantScheme';
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
const OUTLIERS = fixture('smooth', 'prenorm_outliers.onnx');
/** The channels make_smooth.py scaled up by 50 in every norm. */
const INJECTED = [3, 11, 19, 27];
/** Layers that read a norm's output: q, k, v and fc1 of both blocks, and the head. */
const NORM_FED = /\/(blocks\.\d\/(q|k|v|fc1)|head)\/MatMul$/;
const W8 = { bits: 8, symmetric: true, granularity: 'channel' } as const;
const rtn8 = (W: MatrixLike): QuantizedWeight => quantizeRtn(W, W8);

/** Per-layer input-channel absmax from calibration over `feeds`. */
async function layerAbsmax(path: string, feeds: readonly Record<string, RunTensor>[]): Promise<Map<string, number[]>> {
  const cal = await calibrate(path, { feeds }, QUIET_JOB);
  return new Map(cal.layers.map((l) => [l.layer, l.absmax]));
}

const max = (xs: readonly number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);

/** A copy of `source` with the picked layers rewritten by `rewrite`. */
function rewriteLayers(source: OnnxModel, pick: (t: WeightTarget) => boolean, rewrite: (m: OnnxModel, t: WeightTarget, names: NameAllocator, shared: ActivationQdq) => RewriteRecord): { model: OnnxModel; records: RewriteRecord[] } {
  const model = source.clone();
  const names = new NameAllocator(model);
  const shared = new ActivationQdq(model, names);
  const records = findWeightTargets(model).targets.filter(pick).map((t) => rewrite(model, t, names, shared));
  return { model, records };
}

const calibrationFeeds = [1, 2, 3, 4].map((s) => ({ x: normalFloats([2, 16, 32], 200 + s) }));

test('prenorm_outliers: absmax ≥ threshold finds exactly the injected channels of the norm-fed layers', async () => {
  const absmax = await layerAbsmax(OUTLIERS, calibrationFeeds);
  const fed = [...absmax.keys()].filter((l) => NORM_FED.test(l));
  assert.equal(fed.length, 9);
  const lines: string[] = [];
  let regularMax = 0, outlierMin = Infinity;
  for (const l of fed) {
    const a = absmax.get(l) ?? [];
    const reg = a.filter((_, c) => !INJECTED.includes(c));
    const out = INJECTED.map((c) => a[c]);
    regularMax = Math.max(regularMax, max(reg));
    outlierMin = Math.min(outlierMin, ...out);
    lines.push(`${l}: regular max ${max(reg).toFixed(2)}, outliers ${out.map((v) => v.toFixed(1)).join(' ')}`);
  }
  console.log(`prenorm_outliers absmax per norm-fed layer:\n${lines.join('\n')}\nregular max ${regularMax.toFixed(2)}, outlier min ${outlierMin.toFixed(2)}`);
  // LLM.int8()'s α = 6 isolates them here: the regular channels stay below it and the injected ones far above.
  assert.ok(regularMax < 6 && outlierMin >= 6, `α = 6 separates ${regularMax} from ${outlierMin}`);
  for (const l of fed) assert.deepEqual(outlierChannels(absmax.get(l) ?? []), INJECTED, l);
  // The attention output and the GELU output carry no injected outliers.
  for (const l of [...absmax.keys()].filter((x) => !NORM_FED.test(x))) {
    console.log(`${l}: ${outlierChannels(absmax.get(l) ?? []).length} channels ≥ 6 (absmax max ${max(absmax.get(l) ?? []).toFixed(2)})`);
  }
  assert.deepEqual(outlierChannels([1, 6, Number.NaN, 7, 5.99]), [1, 3]);
  assert.deepEqual(outlierChannels([1, 6, 7], 6.5), [2]);
});

test('prenorm_outliers: the decomposition costs less error than plain W8A8 on the same layers, dynamic and static', async () => {
  const source = await OnnxModel.load(OUTLIERS);
  const absmax = await layerAbsmax(OUTLIERS, calibrationFeeds);
  const feeds = { x: normalFloats([2, 16, 32], 9) };
  const reference = await runWith(OUTLIERS, feeds);
  const pick = (t: WeightTarget): boolean => NORM_FED.test(t.layer);
  const W = (m: OnnxModel, t: WeightTarget): Float32Array => canonicalWeight(m, t);
  const a = (t: WeightTarget): number[] => absmax.get(t.layer) ?? [];
  const staticAct = (t: WeightTarget, channels: readonly number[]): ActivationQuant => activationQuant(max(channels.map((c) => a(t)[c])));
  const all = (t: WeightTarget): number[] => Array.from({ length: t.inFeatures }, (_, c) => c);

  const plainDynamic = rewriteLayers(source, pick, (m, t, names) => rewriteDynamicW8A8(m, t, rtn8({ rows: t.outFeatures, cols: t.inFeatures, data: W(m, t) }), names));
  const decomposedDynamic = rewriteLayers(source, pick, (m, t, names) => rewriteInt8Decomposition(m, t, W(m, t), outlierChannels(a(t)), rtn8, { kind: 'dynamic' }, names));
  const plainStatic = rewriteLayers(source, pick, (m, t, names, shared) =>
    rewriteStaticW8A8(m, t, rtn8({ rows: t.outFeatures, cols: t.inFeatures, data: W(m, t) }), staticAct(t, all(t)), names, shared));
  const decomposedStatic = rewriteLayers(source, pick, (m, t, names, shared) => {
    const outs = outlierChannels(a(t));
    const mode: DecompositionMode = { kind: 'static', act: staticAct(t, all(t).filter((c) => !outs.includes(c))), shared };
    return rewriteInt8Decomposition(m, t, W(m, t), outs, rtn8, mode, names);
  });
  assert.equal(decomposedDynamic.records.length, 9);
  for (const r of [...decomposedDynamic.records, ...decomposedStatic.records]) {
    assert.equal(r.kind, 'decomposed');
    assert.deepEqual(r.outlierChannels, INJECTED);
    assert.equal(r.container, 'uint8 + float');
  }
  assert.ok(decomposedStatic.records.every((r) => r.activation?.zeroPoint === 128));

  const err: Record<string, number> = {};
  for (const [name, pair] of Object.entries({ plainDynamic, decomposedDynamic, plainStatic, decomposedStatic })) {
    err[name] = relativeL2(await runWith(pair.model.toBytes(), feeds), reference);
    const basic = relativeL2(await runWith(pair.model.toBytes(), feeds, { optimization: 'basic' }), reference);
    assert.ok(Math.abs(basic - err[name]) < 0.1 * err[name] + 1e-4, `${name}: 'all' ${err[name]} and 'basic' ${basic} agree`);
  }
  console.log(`prenorm_outliers, 9 norm-fed layers, relative L2 vs fp32: ${Object.entries(err).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
  assert.ok(err.decomposedDynamic < err.plainDynamic / 2, `dynamic: decomposed ${err.decomposedDynamic} vs plain ${err.plainDynamic}`);
  assert.ok(err.decomposedStatic < err.plainStatic / 2, `static: decomposed ${err.decomposedStatic} vs plain ${err.plainStatic}`);
});

/** A zero regular weight: every code 0 with scale 1, so the INT8 part adds exactly 0. */
function zeroWeight(W: MatrixLike): QuantizedWeight {
  const layout = layoutFor(W8, W.rows, W.cols);
  return { layout, codes: new Int8Array(W.rows * W.cols), scales: new Float32Array(W.rows).fill(1), zeroPoints: new Int8Array(W.rows) };
}

for (const kind of ['dynamic', 'static'] as const) {
  test(`${kind} decomposition: the float outlier path is exact (X_o·W_o with a zero regular weight)`, async () => {
    const model = await OnnxModel.load(TINY);
    const names = new NameAllocator(model);
    const [t] = findWeightTargets(model).targets;
    const W = canonicalWeight(model, t);
    const c = 5;
    const mode: DecompositionMode = kind === 'dynamic' ? { kind } : { kind, act: activationQuant(3), shared: new ActivationQdq(model, names) };
    rewriteInt8Decomposition(model, t, W, [c], zeroWeight, mode, names);
    model.addOutput('h0', ElementType.FLOAT);
    const x = normalFloats([5, 16], 11);
    const h0 = (await runWith(model.toBytes(), { x })).h0.data as Float32Array;
    const xs = x.data as Float32Array;
    // One outlier channel: each output is one float32 product, with no summation order to differ in.
    const want = Float32Array.from({ length: 5 * 8 }, (_, i) => Math.fround(xs[Math.floor(i / 8) * 16 + c] * W[(i % 8) * 16 + c]));
    assert.deepEqual(Array.from(h0), Array.from(want));
  });
}

/** ORT's DynamicQuantizeLinear then dequantize: per-tensor uint8 over the range extended to 0. */
function dynamicFakeQuant(x: readonly number[]): number[] {
  let lo = 0, hi = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const scale = Math.fround((hi - lo) / 255);
  if (scale === 0) return x.map(() => 0);
  const zp = Math.min(255, Math.max(0, roundHalfEven(-lo / scale)));
  return x.map((v) => (Math.min(255, Math.max(0, roundHalfEven(Math.fround(v / scale)) + zp)) - zp) * scale);
}

/** QuantizeLinear → DequantizeLinear (uint8) with a fixed scale. */
function staticFakeQuant(x: readonly number[], q: ActivationQuant): number[] {
  return x.map((v) => Math.fround((Math.min(255, Math.max(0, roundHalfEven(Math.fround(v / q.scale)) + q.zeroPoint)) - q.zeroPoint) * q.scale));
}

/** One decomposed layer in JS: x [rows, K] → y [rows, N] (without bias). */
function decomposedLayer(x: readonly number[], rows: number, K: number, W: Float32Array, N: number, outs: readonly number[], deqRegular: Float32Array, quant: (xr: readonly number[]) => number[]): number[] {
  const reg = Array.from({ length: K }, (_, c) => c).filter((c) => !outs.includes(c));
  const xr = quant(Array.from({ length: rows * reg.length }, (_, i) => x[Math.floor(i / reg.length) * K + reg[i % reg.length]]));
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (const c of outs) s += x[r * K + c] * W[n * K + c];
      for (let j = 0; j < reg.length; j++) s += xr[r * reg.length + j] * deqRegular[n * reg.length + j];
      y.push(s);
    }
  }
  return y;
}

for (const kind of ['dynamic', 'static'] as const) {
  test(`${kind} decomposition on tiny_mlp with forced outliers matches a JS evaluation of the arithmetic`, async () => {
    const source = await OnnxModel.load(TINY);
    const model = source.clone();
    const names = new NameAllocator(model);
    const shared = new ActivationQdq(model, names);
    const [t1, t2] = findWeightTargets(model).targets;
    const forced = [[2, 9], [1, 6]];
    const acts = [activationQuant(2.5), activationQuant(1.5)];
    const Ws = [canonicalWeight(model, t1), canonicalWeight(model, t2)];
    const deq: Float32Array[] = [];
    const records = [t1, t2].map((t, i) => {
      const quantize = (Wr: MatrixLike): QuantizedWeight => {
        const q = rtn8(Wr);
        deq.push(dequantize(q));
        return q;
      };
      const mode: DecompositionMode = kind === 'dynamic' ? { kind } : { kind, act: acts[i], shared };
      return rewriteInt8Decomposition(model, t, Ws[i], forced[i], quantize, mode, names);
    });
    const [r1] = records;
    assert.deepEqual(r1.outlierChannels, [2, 9]);
    // Float outlier rows (2×8×4), codes (14×8), scales and zero points (8×5), int64 indices (16×8).
    assert.equal(r1.afterBytes, 2 * 8 * 4 + 14 * 8 + 8 * 5 + 16 * 8);
    assert.equal(r1.removedFloat, true);
    assert.equal(model.findInitializer('fc1.weight'), undefined);
    if (kind === 'static') assert.deepEqual(r1.activation, acts[0]);

    const x = normalFloats([6, 16], 21);
    const b1 = source.getFloatTensor('fc1.bias'), b2 = source.getFloatTensor('fc2.bias');
    const quant = (i: number) => (xr: readonly number[]): number[] => (kind === 'dynamic' ? dynamicFakeQuant(xr) : staticFakeQuant(xr, acts[i]));
    const h = decomposedLayer(Array.from(x.data as Float32Array), 6, 16, Ws[0], 8, forced[0], deq[0], quant(0)).map((v, i) => Math.fround(Math.max(0, v + b1[i % 8])));
    const y = decomposedLayer(h, 6, 8, Ws[1], 4, forced[1], deq[1], quant(1)).map((v, i) => v + b2[i % 4]);
    const js = { y: { type: 'float32', dims: [6, 4], data: Float32Array.from(y) } };
    for (const optimization of ['basic', 'all'] as const) {
      const err = relativeL2(await runWith(model.toBytes(), { x }, { optimization }), js);
      console.log(`tiny_mlp ${kind} decomposition, outliers [2, 9] and [1, 6], '${optimization}' vs JS: ${err.toExponential(2)}`);
      assert.ok(err < 1e-4, `'${optimization}' vs JS: relative error ${err}`);
    }
  });
}

test('decomposition on the transformer: Gemm transB + bias and MatMul layers run close to fp32', async () => {
  const source = await OnnxModel.load(TRANSFORMER);
  const { model, records } = rewriteLayers(source, () => true, (m, t, names) => rewriteInt8Decomposition(m, t, canonicalWeight(m, t), [0, 7], rtn8, { kind: 'dynamic' }, names));
  assert.equal(records.length, 4);
  const gemm = records.find((r) => r.opType === 'Gemm');
  assert.ok(gemm);
  assert.ok(model.nodes.some((n) => n.opType === 'Add' && n.input?.includes('self_attn.out_proj.bias')));
  assert.ok(model.nodes.some((n) => n.output?.includes('/self_attn/Gemm_output_0')), 'the original output name is kept');
  const feeds = { x: normalFloats([2, 7, 32], 5) };
  const err = relativeL2(await runWith(model.toBytes(), feeds), await runWith(TRANSFORMER, feeds));
  console.log(`transformer, dynamic decomposition with outliers [0, 7] on all 4 layers, vs fp32: ${err.toExponential(2)}`);
  assert.ok(err > 0 && err < 1e-2, `relative error ${err}`);
});

test('decomposition refuses all-outlier layers, no outliers and channels out of range', async () => {
  const model = await OnnxModel.load(TINY);
  const names = new NameAllocator(model);
  const [t] = findWeightTargets(model).targets;
  const W = canonicalWeight(model, t);
  const every = Array.from({ length: 16 }, (_, c) => c);
  assert.throws(() => rewriteInt8Decomposition(model, t, W, every, rtn8, { kind: 'dynamic' }, names), /nothing is left to quantize/);
  assert.throws(() => rewriteInt8Decomposition(model, t, W, [], rtn8, { kind: 'dynamic' }, names), /no outlier channels/);
  assert.throws(() => rewriteInt8Decomposition(model, t, W, [16], rtn8, { kind: 'dynamic' }, names), /not an input channel/);
  assert.throws(() => rewriteInt8Decomposition(model, t, W, [1], (Wr) => quantizeRtn(Wr, { bits: 4, symmetric: true, granularity: 'channel' }), { kind: 'dynamic' }, names), /8-bit/);
  assert.equal(model.nodes.length, 5, 'nothing was changed');
});
