import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { declaredInputs, SyntheticInputs } from '../../../../src/core/calibration/calibrationInputs';
import { Attr, OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { editType } from '../../../../src/core/onnx/onnxEditSchema';
import { ElementType, type ModelMessage, type NodeMessage, type TensorMessage, type ValueInfoMessage } from '../../../../src/core/onnx/onnxMessages';
import { applySmoothQuant, findWeightTargets, NameAllocator, type SmoothQuantResult, type WeightTarget } from '../../../../src/core/onnx/rewrite';
import { combinedAbsmax, smoothedAbsmax, smoothedHessian, smoothingScales, weightInputAbsmax } from '../../../../src/core/quant';
import { seededRandom } from '../../../../src/core/random/seededRandom';
import { calibrate, type CalibrationResult } from '../../../../src/worker/jobs/calibrate';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import type { RunTensor } from '../../../../src/worker/ort';
import { fixture } from '../../support/paths';
import { relativeL2, runWith } from '../../support/rewriteSupport';

const PRENORM = fixture('smooth', 'prenorm.onnx');
const OUTLIERS = fixture('smooth', 'prenorm_outliers.onnx');
const TRANSFORMER = fixture('onnx', 'transformer.onnx');
const TINY = fixture('workspace', 'tiny_mlp.onnx');
const SIZES = { batchSize: 2, sequenceLength: 16 } as const;

function close(actual: number, expected: number, rel: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), 1e-30), `${what}: ${actual} vs ${expected}`);
}

function median(v: ArrayLike<number>): number {
  const s = Float64Array.from(v).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** SmoothQuant's difficulty: max / median channel absmax. */
function difficulty(v: ArrayLike<number>): number {
  return Math.max(...Array.from(v)) / median(v);
}

interface Smoothed {
  readonly source: OnnxModel;
  readonly model: OnnxModel;
  readonly result: SmoothQuantResult;
  readonly cal: CalibrationResult;
}

/** Calibrates on generated inputs, then smooths a clone of the model (the caller's usual flow). */
async function smooth(source: OnnxModel, alpha: number, pick: (t: WeightTarget) => boolean = () => true): Promise<Smoothed> {
  const cal = await calibrate(source, { ...SIZES, batches: 2, seed: 3 }, QUIET_JOB);
  const model = source.clone();
  const absmax = new Map(cal.layers.map((l) => [l.layer, l.absmax]));
  const result = applySmoothQuant(model, findWeightTargets(model).targets.filter(pick), (layer) => absmax.get(layer), { alpha });
  return { source, model, result, cal };
}

/** Relative L2 difference of the two models' outputs on fresh generated inputs (not the calibration ones). */
async function outputError(a: OnnxModel, b: OnnxModel, seed = 11): Promise<number> {
  const feeds = new SyntheticInputs(declaredInputs(a), { ...SIZES, seed }).next() as Record<string, RunTensor>;
  return relativeL2(await runWith(b.toBytes(), feeds), await runWith(a.toBytes(), feeds));
}

function byLayer(r: SmoothQuantResult, layer: string): SmoothQuantResult['smoothed'][number] {
  const a = r.smoothed.find((s) => s.layers.includes(layer));
  assert.ok(a, `${layer} was smoothed`);
  return a;
}

// ---- the scales ------------------------------------------------------------------------------

test('smoothingScales follows s_j = max|X_j|^α / max|W_j|^(1−α), with guards and clamps', () => {
  const s = smoothingScales([4, 1, 0, 9, Number.NaN, 2, 16], [1, 4, 3, 0, 1, Infinity, 4], 0.5);
  assert.deepEqual(Array.from(s), [2, 0.5, 1, 1, 1, 1, 2]);
  // α = 1 moves all difficulty to the weights (s = max|X|), α = 0 all to the activations (s = 1/max|W|).
  assert.deepEqual(Array.from(smoothingScales([8, 0.5], [2, 4], 1)), [8, 0.5]);
  assert.deepEqual(Array.from(smoothingScales([8, 0.5], [2, 4], 0)), [0.5, 0.25]);
  close(smoothingScales([3], [5], 0.8)[0], 3 ** 0.8 / 5 ** 0.2, 1e-7, 'α = 0.8');
  assert.deepEqual(Array.from(smoothingScales([1e12, 1e-12], [1e-12, 1e12])), [1e5, Math.fround(1e-5)]);
  assert.deepEqual(Array.from(smoothingScales([5, 7], [3, 2])), Array.from(smoothingScales([5, 7], [3, 2], 0.5)), 'α defaults to 0.5');
  for (const bad of [-0.01, 1.01, Number.NaN]) assert.throws(() => smoothingScales([1], [1], bad), RangeError);
  assert.throws(() => smoothingScales([1, 2], [1]), RangeError);
});

test('weight absmax per input column, combined over the layers sharing X', () => {
  // W [out = 2, in = 3].
  const w = weightInputAbsmax({ rows: 2, cols: 3, data: Float32Array.from([1, -5, 2, -3, 4, 0]) });
  assert.deepEqual(Array.from(w), [3, 5, 2]);
  assert.deepEqual(Array.from(combinedAbsmax([w, [4, -1, 2], Float64Array.from([0, 0, 7])])), [4, 5, 7]);
  assert.throws(() => combinedAbsmax([[1, 2], [1]]), RangeError);
  assert.throws(() => combinedAbsmax([]), RangeError);
});

test('smoothedHessian is S⁻¹HS⁻¹, the Gram matrix of X·diag(s)⁻¹, and smoothedAbsmax is absmax / s', () => {
  const rnd = seededRandom(7);
  const n = 50, d = 5;
  const X = Float64Array.from({ length: n * d }, () => rnd() * 2 - 1);
  const s = Float32Array.from({ length: d }, () => 0.1 + 4 * rnd());
  const gram = (x: ArrayLike<number>): Float64Array => {
    const H = new Float64Array(d * d);
    for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) H[i * d + j] += x[r * d + i] * x[r * d + j];
    return H;
  };
  const Xs = X.map((v, k) => v / s[k % d]);
  const want = gram(Xs);
  const got = smoothedHessian(gram(X), d, s);
  for (let k = 0; k < d * d; k++) close(got[k], want[k], 1e-12, `H'[${k}]`);
  const absmax = (x: ArrayLike<number>): number[] => Array.from({ length: d }, (_, j) => Math.max(...Array.from({ length: n }, (_, r) => Math.abs(x[r * d + j]))));
  const sa = smoothedAbsmax(absmax(X), s);
  absmax(Xs).forEach((v, j) => close(sa[j], v, 1e-12, `absmax'[${j}]`));
  assert.throws(() => smoothedHessian(new Float64Array(4), 3, [1, 1, 1]), RangeError);
  assert.throws(() => smoothedHessian(new Float64Array(9), 3, [1, 1]), RangeError);
});

// ---- the graph fold on real exports ----------------------------------------------------------

for (const alpha of [0.5, 0.8]) {
  test(`prenorm.onnx, α = ${alpha}: q/k/v fold into the LayerNorm, fc1 into the RMS norm's γ Mul, o-proj gets a Mul; outputs unchanged`, async (t: TestContext) => {
    const { source, model, result } = await smooth(await OnnxModel.load(PRENORM), alpha);
    assert.deepEqual(result.skipped, []);
    assert.equal(result.smoothed.length, 9, '4 activations per block and the head');
    for (const b of [0, 1]) {
      const qkv = byLayer(result, `/blocks.${b}/q/MatMul`);
      assert.deepEqual(qkv.layers, [`/blocks.${b}/q/MatMul`, `/blocks.${b}/k/MatMul`, `/blocks.${b}/v/MatMul`], 'q, k, v share one s');
      assert.deepEqual(qkv.foldedInto, { node: `/blocks.${b}/ln/LayerNormalization`, opType: 'LayerNormalization' });
      assert.equal(qkv.mulNode, null);
      const fc1 = byLayer(result, `/blocks.${b}/fc1/MatMul`);
      assert.deepEqual(fc1.foldedInto, { node: `/blocks.${b}/rms/Mul_1`, opType: 'Mul' });
      // torch's exact GELU ends in Mul(·, 0.5): a scalar constant, which becomes the [64] vector 0.5/s.
      const fc2 = byLayer(result, `/blocks.${b}/fc2/MatMul`);
      assert.deepEqual(fc2.foldedInto, { node: `/blocks.${b}/Mul_1`, opType: 'Mul' });
      assert.deepEqual(model.tensorInfo(model.nodes.find((n) => n.name === `/blocks.${b}/Mul_1`)?.input?.[1] ?? '')?.dims, [64]);
      // The attention output arrives through Reshape: nothing to fold into.
      const o = byLayer(result, `/blocks.${b}/o/MatMul`);
      assert.equal(o.foldedInto, null);
      assert.ok(o.mulNode);
      const mul = model.nodes.find((n) => n.name === o.mulNode);
      assert.ok(mul);
      assert.equal(mul.opType, 'Mul');
      assert.equal(model.nodes.find((n) => n.name === `/blocks.${b}/o/MatMul`)?.input?.[0], mul.output?.[0]);
      assert.ok(model.nodes.indexOf(mul) < model.nodes.findIndex((n) => n.name === `/blocks.${b}/o/MatMul`));
    }
    assert.deepEqual(byLayer(result, '/head/MatMul').foldedInto, { node: '/ln_f/LayerNormalization', opType: 'LayerNormalization' });
    assert.equal(model.nodes.filter((n) => n.opType === 'Mul').length, source.nodes.filter((n) => n.opType === 'Mul').length + 2, 'only the two o-proj Muls were added');
    // The γ and β the fold changed are the LayerNorm's own: γ' = γ / s.
    const s = byLayer(result, '/blocks.0/q/MatMul').scales;
    const g0 = source.getFloatTensor('blocks.0.ln.weight'), g1 = model.getFloatTensor('blocks.0.ln.weight');
    g1.forEach((v, j) => close(v, g0[j] / s[j], 1e-6, `γ'[${j}]`));
    // And W' = diag(s)·W: MatMul stores [in, out], so row j of the q weight is multiplied by s_j.
    const w0 = source.getFloatTensor('onnx::MatMul_226'), w1 = model.getFloatTensor('onnx::MatMul_226');
    w1.forEach((v, i) => close(v, w0[i] * s[Math.floor(i / 32)], 1e-6, `W'[${i}]`));

    const after = findWeightTargets(model);
    assert.deepEqual(after.targets.map((x) => x.layer), findWeightTargets(source).targets.map((x) => x.layer), 'the layers are still MatMul targets');
    assert.equal(after.targets.find((x) => x.layer === '/blocks.0/o/MatMul')?.activation, byLayer(result, '/blocks.0/o/MatMul').smoothedInput);

    const err = await outputError(source, model);
    t.diagnostic(`prenorm α=${alpha}: output relative L2 ${err.toExponential(2)}; s in [${Math.min(...result.smoothed.map((a) => a.minScale)).toFixed(3)}, ${Math.max(...result.smoothed.map((a) => a.maxScale)).toFixed(3)}]`);
    assert.ok(err < 1e-5, `relative error ${err}`);
  });
}

test('prenorm_outliers.onnx: smoothing flattens the 50× outlier channels; recalibration agrees with smoothedAbsmax and smoothedHessian', async (t: TestContext) => {
  const { source, model, result, cal } = await smooth(await OnnxModel.load(OUTLIERS), 0.5);
  const err = await outputError(source, model);
  assert.ok(err < 1e-5, `relative error ${err}`);
  const again = await calibrate(model, { ...SIZES, batches: 2, seed: 3 }, QUIET_JOB);
  const stats = new Map(cal.layers.map((l) => [l.layer, l]));
  const statsAfter = new Map(again.layers.map((l) => [l.layer, l]));
  const lines: string[] = [`relative L2 ${err.toExponential(2)}`];
  for (const layer of ['/blocks.0/q/MatMul', '/blocks.0/fc1/MatMul', '/blocks.1/q/MatMul', '/blocks.1/fc1/MatMul', '/head/MatMul']) {
    const a = byLayer(result, layer);
    const before = stats.get(layer);
    assert.ok(before);
    const absmax = before.absmax;
    const top = Array.from(absmax.keys()).sort((i, j) => absmax[j] - absmax[i]).slice(0, 4).sort((i, j) => i - j);
    assert.deepEqual(top, [3, 11, 19, 27], `${layer}: the outliers are where the fixture put them`);
    const smoothed = smoothedAbsmax(absmax, a.scales);
    const r0 = difficulty(absmax), r1 = difficulty(smoothed);
    lines.push(`${layer}: max/median ${r0.toFixed(1)} → ${r1.toFixed(2)}`);
    assert.ok(r0 > 20 && r1 < r0 / 5, `${layer}: ${r0} → ${r1}`);
    // X' = X·diag(s)⁻¹ exactly, so the smoothed model calibrates to the predicted statistics.
    const measured = statsAfter.get(layer);
    assert.ok(measured);
    measured.absmax.forEach((v, j) => close(v, smoothed[j], 1e-4, `${layer} absmax'[${j}]`));
    const H = smoothedHessian(before.hessian, before.d, a.scales);
    let num = 0, den = 0;
    for (let k = 0; k < H.length; k++) {
      num += (H[k] - measured.hessian[k]) ** 2;
      den += measured.hessian[k] ** 2;
    }
    assert.ok(Math.sqrt(num / den) < 1e-5, `${layer} Hessian relative error ${Math.sqrt(num / den)}`);
  }
  const strong = await smooth(source, 0.8);
  const err8 = await outputError(source, strong.model);
  assert.ok(err8 < 1e-5, `α = 0.8: relative error ${err8}`);
  t.diagnostic(`${lines.join('; ')}; α=0.8: relative L2 ${err8.toExponential(2)}, ${strong.result.smoothed.filter((a) => a.foldedInto).length} of ${strong.result.smoothed.length} folded`);
});

test('transformer.onnx (post-norm): no fold into a norm whose output also feeds the residual; Mul nodes keep the function', async (t: TestContext) => {
  for (const alpha of [0.5, 0.8]) {
    const { source, model, result } = await smooth(await OnnxModel.load(TRANSFORMER), alpha);
    assert.deepEqual(result.skipped, []);
    assert.deepEqual(result.smoothed.map((a) => a.layers[0]), ['/self_attn/MatMul', '/self_attn/Gemm', '/linear1/MatMul', '/linear2/MatMul']);
    for (const a of result.smoothed) {
      assert.equal(a.foldedInto, null, a.layers[0]);
      assert.ok(a.mulNode, a.layers[0]);
    }
    // norm1's output still feeds the residual Add unchanged; linear1 reads the Mul's output.
    const lin1 = byLayer(result, '/linear1/MatMul');
    assert.match(lin1.foldBlocked ?? '', /readers besides the smoothed layers/);
    assert.equal(model.nodes.find((n) => n.name === '/Add_1')?.input?.[0], '/norm1/Add_1_output_0');
    assert.equal(model.nodes.find((n) => n.name === '/linear1/MatMul')?.input?.[0], lin1.smoothedInput);
    assert.deepEqual(source.getFloatTensor('norm1.weight'), model.getFloatTensor('norm1.weight'));
    // The Gemm stores [out, in] (transB = 1): column j is multiplied by s_j.
    const s = byLayer(result, '/self_attn/Gemm').scales;
    const w0 = source.getFloatTensor('self_attn.out_proj.weight'), w1 = model.getFloatTensor('self_attn.out_proj.weight');
    w1.forEach((v, i) => close(v, w0[i] * s[i % 32], 1e-6, `Gemm W'[${i}]`));
    const err = await outputError(source, model);
    t.diagnostic(`transformer α=${alpha}: relative L2 ${err.toExponential(2)}`);
    assert.ok(err < 1e-5, `relative error ${err}`);
    assert.equal(findWeightTargets(model).targets.length, 4);
  }
});

test('tiny_mlp.onnx: a graph input and a Relu output get Mul nodes; outputs unchanged', async (t: TestContext) => {
  for (const alpha of [0.5, 0.8]) {
    const { source, model, result } = await smooth(await OnnxModel.load(TINY), alpha);
    assert.deepEqual(result.smoothed.map((a) => [a.layers, a.foldedInto, a.mulNode !== null]), [[['fc1/MatMul'], null, true], [['fc2/MatMul'], null, true]]);
    assert.equal(model.nodes[0].opType, 'Mul', 'the Mul on the graph input comes first');
    const err = await outputError(source, model);
    t.diagnostic(`tiny_mlp α=${alpha}: relative L2 ${err.toExponential(2)}`);
    assert.ok(err < 1e-5, `relative error ${err}`);
  }
});

test('shared constants are copied, not modified; the model passed in is the one changed', async () => {
  const source = await OnnxModel.load(PRENORM);
  // Block 1's LayerNorm reads block 0's γ, and k reads q's weight; only q and block 0's norm are smoothed.
  const ln1 = source.nodes.find((n) => n.name === '/blocks.1/ln/LayerNormalization');
  const k0 = source.nodes.find((n) => n.name === '/blocks.0/k/MatMul');
  assert.ok(ln1?.input && k0?.input);
  ln1.input[1] = 'blocks.0.ln.weight';
  k0.input[1] = 'onnx::MatMul_226';
  source.removeInitializer('blocks.1.ln.weight');
  source.removeInitializer('onnx::MatMul_233');
  const gamma = source.getFloatTensor('blocks.0.ln.weight');
  const qWeight = source.getFloatTensor('onnx::MatMul_226');

  // q/k/v all smoothed: the LayerNorm's γ is shared with block 1's, so block 0 gets a copy.
  const all = await smooth(source, 0.5, (x) => x.layer.startsWith('/blocks.0/'));
  const ln0 = all.model.nodes.find((n) => n.name === '/blocks.0/ln/LayerNormalization');
  assert.notEqual(ln0?.input?.[1], 'blocks.0.ln.weight');
  assert.deepEqual(all.model.getFloatTensor('blocks.0.ln.weight'), gamma, 'block 1 still sees the original γ');
  assert.deepEqual(all.model.nodes.find((n) => n.name === '/blocks.1/ln/LayerNormalization')?.input?.[1], 'blocks.0.ln.weight');
  // q and k share a weight and one s: it is scaled once, in place, since nothing else reads it.
  assert.equal(all.model.nodes.find((n) => n.name === '/blocks.0/k/MatMul')?.input?.[1], 'onnx::MatMul_226');
  assert.ok((await outputError(all.source, all.model)) < 1e-5);

  // Only q smoothed: X has other readers (Mul fallback) and q's weight is shared with k (copied).
  const q = await smooth(source, 0.5, (x) => x.layer === '/blocks.0/q/MatMul');
  const a = byLayer(q.result, '/blocks.0/q/MatMul');
  assert.equal(a.foldedInto, null);
  assert.ok(a.mulNode);
  const qNode = q.model.nodes.find((n) => n.name === '/blocks.0/q/MatMul');
  assert.notEqual(qNode?.input?.[1], 'onnx::MatMul_226');
  assert.equal(q.model.nodes.find((n) => n.name === '/blocks.0/k/MatMul')?.input?.[1], 'onnx::MatMul_226');
  assert.deepEqual(q.model.getFloatTensor('onnx::MatMul_226'), qWeight);
  assert.ok((await outputError(q.source, q.model)) < 1e-5);

  // The source was cloned by smooth(): it is untouched; applySmoothQuant changes the model it is given.
  assert.deepEqual(source.getFloatTensor('blocks.0.ln.weight'), gamma);
  const direct = source.clone();
  const before = direct.nodes.length;
  applySmoothQuant(direct, findWeightTargets(direct).targets.filter((x) => x.layer === '/blocks.0/o/MatMul'), () => new Float32Array(32).fill(3));
  assert.equal(direct.nodes.length, before + 1);
  assert.equal(source.nodes.length, before);
});

// ---- fold patterns the exports above do not have ---------------------------------------------

const D = 8;

function floatInit(name: string, dims: readonly number[], seed: number, offset = 0): TensorMessage {
  const rnd = seededRandom(seed);
  const v = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => offset + rnd() * 2 - 1);
  return { name, dataType: ElementType.FLOAT, dims: dims.map(String), rawData: new Uint8Array(v.buffer) };
}

function valueInfo(name: string, dims: readonly (number | string)[]): ValueInfoMessage {
  return { name, type: { tensorType: { elemType: ElementType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: String(d) } : { dimParam: d })) } } } };
}

/** x → Gemm(transB) → Add(c) → MatMul m1; x → MatMul(Wp) → m2; Relu(x) → Add(c3) → m3; x → SimplifiedLayerNormalization → m4; c is also read by an Add to an output. */
function patterns(): OnnxModel {
  const mm = (name: string, x: string, w: string, y: string): NodeMessage => ({ name, opType: 'MatMul', input: [x, w], output: [y] });
  const proto: ModelMessage = {
    irVersion: '8', opsetImport: [{ domain: '', version: '17' }, { domain: 'com.microsoft', version: '1' }],
    graph: {
      name: 'patterns',
      node: [
        { name: 'g0', opType: 'Gemm', input: ['x', 'B0', 'C0'], output: ['a0'], attribute: [Attr.int('transB', 1)] },
        { name: 'add0', opType: 'Add', input: ['c', 'a0'], output: ['x1'] },
        mm('m1', 'x1', 'W1', 'y1'),
        mm('p2', 'x', 'Wp', 'x2'),
        mm('m2', 'x2', 'W2', 'y2'),
        { name: 'relu', opType: 'Relu', input: ['x'], output: ['r'] },
        { name: 'add3', opType: 'Add', input: ['r', 'c3'], output: ['x3'] },
        mm('m3', 'x3', 'W3', 'y3'),
        { name: 'sln', opType: 'SimplifiedLayerNormalization', input: ['x', 'g4'], output: ['x4'], attribute: [Attr.int('axis', -1), Attr.float('epsilon', 1e-5)] },
        mm('m4', 'x4', 'W4', 'y4'),
        { name: 'add5', opType: 'Add', input: ['x', 'c'], output: ['y5'] },
      ],
      initializer: [
        floatInit('B0', [D, D], 1), floatInit('C0', [D], 2), floatInit('c', [D], 3), floatInit('W1', [D, 6], 4),
        floatInit('Wp', [D, D], 5), floatInit('W2', [D, 6], 6), floatInit('c3', [1, D], 7), floatInit('W3', [D, 6], 8),
        floatInit('g4', [D], 9, 1.5), floatInit('W4', [D, 6], 10),
      ],
      input: [valueInfo('x', ['n', D])],
      output: ['y1', 'y2', 'y3', 'y4'].map((y) => valueInfo(y, ['n', 6])).concat([valueInfo('y5', ['n', D])]),
    },
  };
  const T = editType('ModelProto');
  return OnnxModel.fromBytes(T.encode(T.fromObject(proto)).finish());
}

test('folds through Add into a Gemm, into a MatMul and a SimplifiedLayerNormalization; an Add chain that cannot end stays unchanged', async () => {
  const source = patterns();
  // Uneven activation statistics so that s is far from 1 everywhere.
  const absmax = Float32Array.from({ length: D }, (_, j) => 0.2 + 3 * j);
  const model = source.clone();
  const names = new NameAllocator(model);
  const { smoothed, skipped } = applySmoothQuant(model, findWeightTargets(model).targets, () => absmax, { alpha: 0.7, names });
  assert.deepEqual(skipped, []);
  const got = Object.fromEntries(smoothed.map((a) => [a.layers[0], { into: a.foldedInto?.node ?? null, chain: a.foldChain, mul: a.mulNode !== null }]));
  assert.deepEqual(got, {
    // g0 and p2 read x, which other nodes read too.
    g0: { into: null, chain: [], mul: true },
    m1: { into: 'g0', chain: ['add0', 'g0'], mul: false },
    m2: { into: 'p2', chain: ['p2'], mul: false },
    m3: { into: null, chain: [], mul: true },
    m4: { into: 'sln', chain: ['sln'], mul: false },
  });
  // c is shared with add5 (a graph output's producer): add0 got a copy, add5 still reads the original.
  assert.notEqual(model.nodes.find((n) => n.name === 'add0')?.input?.[0], 'c');
  assert.deepEqual(model.getFloatTensor('c'), source.getFloatTensor('c'));
  // The Add chain above m3 ends at a Relu: planned, refused, and c3 was not touched.
  assert.match(byLayer({ smoothed, skipped }, 'm3').foldBlocked ?? '', /comes from Relu/);
  assert.deepEqual(model.getFloatTensor('c3'), source.getFloatTensor('c3'));
  assert.equal(model.nodes.find((n) => n.name === 'add3')?.input?.[1], 'c3');
  // g0 is smoothed itself and absorbs m1's scale: B0 [N, in] (transB) has its columns (input
  // channels) multiplied by s of x and its rows (output channels) divided by s of x1; C0 by 1/s too.
  const sx = byLayer({ smoothed, skipped }, 'g0').scales, s1 = byLayer({ smoothed, skipped }, 'm1').scales;
  const b0 = source.getFloatTensor('B0'), b1 = model.getFloatTensor('B0');
  b1.forEach((v, i) => close(v, (b0[i] * sx[i % D]) / s1[Math.floor(i / D)], 1e-6, `B0'[${i}]`));
  const c0 = source.getFloatTensor('C0'), c1 = model.getFloatTensor('C0');
  c1.forEach((v, j) => close(v, c0[j] / s1[j], 1e-6, `C0'[${j}]`));

  const x: RunTensor = { type: 'float32', dims: [5, D], data: Float32Array.from({ length: 5 * D }, (_, i) => Math.sin(i) * (1 + (i % D))) };
  const err = relativeL2(await runWith(model.toBytes(), { x }), await runWith(source.toBytes(), { x }));
  assert.ok(err < 1e-5, `relative error ${err}`);
});

test('layers without absmax are skipped and keep X; alpha outside [0, 1] is refused', async () => {
  const model = await OnnxModel.load(PRENORM);
  const targets = findWeightTargets(model).targets.filter((x) => x.layer.startsWith('/blocks.0/'));
  assert.throws(() => applySmoothQuant(model.clone(), targets, () => undefined, { alpha: 1.5 }), RangeError);
  const copy = model.clone();
  const fresh = findWeightTargets(copy).targets.filter((x) => x.layer.startsWith('/blocks.0/'));
  const r = applySmoothQuant(copy, fresh, (layer) => (layer.endsWith('/k/MatMul') ? undefined : new Float32Array(layer.endsWith('/fc2/MatMul') ? 64 : 32).fill(2)));
  assert.deepEqual(r.skipped.map((x) => x.layer), ['/blocks.0/k/MatMul']);
  const qv = byLayer(r, '/blocks.0/q/MatMul');
  assert.deepEqual(qv.layers, ['/blocks.0/q/MatMul', '/blocks.0/v/MatMul']);
  // k still reads the LayerNorm output, so the scale cannot go into γ.
  assert.equal(qv.foldedInto, null);
  assert.match(qv.foldBlocked ?? '', /readers besides the smoothed layers/);
  assert.equal(copy.nodes.find((n) => n.name === '/blocks.0/k/MatMul')?.input?.[0], '/blocks.0/ln/LayerNormalization_output_0');
  assert.ok((await outputError(model, copy)) < 1e-5);
});
