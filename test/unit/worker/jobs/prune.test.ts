import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { Attr, OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { canonicalWeight, findWeightTargets } from '../../../../src/core/onnx/rewrite';
import { quadraticTraceOfDifference } from '../../../../src/core/linalg/quadraticTrace';
import { checkNM, magnitudePrune, nmMask } from '../../../../src/core/prune';
import { pruneParamsFromArgs, runPrune } from '../../../../src/cli/pruneCommand';
import { renderPrune } from '../../../../src/cli/renderPrune';
import { calibrate } from '../../../../src/worker/jobs/calibrate';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { pruneModel } from '../../../../src/worker/jobs/prune';
import type { PruneReport } from '../../../../src/protocol/pruneTypes';
import { OCR_LAYERS, transformModels } from '../../support/transformModels';

const { dir, tiny: TINY, transformer: TRANSFORMER, ocr: OCR } = transformModels('quantscope-prune-');

function summary(r: PruneReport): string {
  const o = r.validation.outputs[0];
  const perms = r.layers.filter((l) => l.permutation).map((l) => `${l.layer}: ${l.permutation?.applied ?? ''} (efficacy ${(l.permutation?.efficacy ?? 0).toFixed(3)})`);
  return `${basename(r.output)} ${r.method} ${r.pattern ?? `s=${String(r.targetSparsity)}`}: rel L2 ${o.relativeL2.toExponential(2)}, cosine ${o.cosine.toFixed(5)}, ` +
    `zeros ${r.sizes.zeros}/${r.sizes.weights}, ${r.sizes.outputBytes} → ~${r.sizes.compressedEstimateBytes} bytes compressed, ${r.seconds.total.toFixed(2)} s${perms.length ? `; ${perms.join(', ')}` : ''}`;
}

/** Σ|w| of the written weights of each pruned layer, and the N:M check of each, in canonical [out, in] order. */
async function writtenLayers(path: string, n: number, m: number): Promise<Map<string, { kept: number; nmOk: boolean; sparsity: number }>> {
  const model = await OnnxModel.load(path);
  const out = new Map<string, { kept: number; nmOk: boolean; sparsity: number }>();
  for (const t of findWeightTargets(model).targets) {
    const data = canonicalWeight(model, t);
    let kept = 0, zeros = 0;
    for (const v of data) {
      kept += Math.abs(v);
      if (v === 0) zeros++;
    }
    out.set(t.layer, { kept, nmOk: checkNM({ rows: t.outFeatures, cols: t.inFeatures, data }, n, m).ok, sparsity: zeros / data.length });
  }
  return out;
}

test('magnitude 50% on tiny_mlp: loads, exact sparsity, metadata, honest latency note, never overwrites', async () => {
  const r = await pruneModel({ path: TINY, method: 'magnitude', sparsity: 0.5 }, QUIET_JOB);
  console.log(summary(r));
  assert.equal(basename(r.output), 'tiny_mlp.pruned.onnx');
  assert.equal(r.layers.length, 2);
  assert.ok(r.layers.every((l) => Math.abs(l.sparsity - 0.5) < 1e-9));
  assert.ok(r.validation.outputs[0].relativeL2 > 0 && r.validation.outputs[0].relativeL2 < 1);
  assert.match(r.latencyNote, /no sparse kernels/);
  assert.match(r.latencyNote, /no regression/);
  assert.ok(r.sizes.compressedEstimateBytes < r.sizes.outputBytes);
  const meta = JSON.parse((await OnnxModel.load(r.output)).getMetadata('quantscope.prune') ?? '{}') as { method?: string; sparsity?: number };
  assert.equal(meta.method, 'magnitude');
  assert.equal(meta.sparsity, 0.5);
  const again = await pruneModel({ path: TINY, method: 'magnitude', sparsity: 0.5, global: true }, QUIET_JOB);
  assert.equal(basename(again.output), 'tiny_mlp.pruned-1.onnx');
  assert.equal(again.sizes.zeros, again.sizes.weights / 2);
  await assert.rejects(pruneModel({ path: TINY, output: r.output, method: 'magnitude' }, QUIET_JOB), /already exists/);
  assert.ok(renderPrune(r).includes('no sparse kernels'));
});

test('permutation alone keeps the function: tiny_mlp (producer through Add+Relu, and a Gather on the graph input)', async () => {
  const r = await pruneModel({ path: TINY, method: 'nm', pattern: { n: 2, m: 4 }, permute: true, permuteOnly: true }, QUIET_JOB);
  console.log(summary(r));
  assert.equal(basename(r.output), 'tiny_mlp.permuted.onnx');
  const how = new Map(r.layers.map((l) => [l.layer, l.permutation?.applied]));
  assert.equal(how.get('fc2/MatMul'), 'producer');
  assert.equal(how.get('fc1/MatMul'), 'gather');
  assert.equal(r.sizes.zeros, 0);
  assert.ok(r.validation.outputs[0].relativeL2 < 1e-5, `rel L2 ${r.validation.outputs[0].relativeL2}`);
});

/** tiny_mlp with fc1 as one Gemm (transB = 1, bias as its third input), written beside the others. */
async function gemmMlp(): Promise<string> {
  const m = await OnnxModel.load(TINY);
  const w = m.getFloatTensor('fc1.weight');
  const wt = new Float32Array(16 * 8);
  for (let i = 0; i < 16; i++) for (let o = 0; o < 8; o++) wt[o * 16 + i] = w[i * 8 + o];
  m.setInitializer('fc1.weight', 1, [8, 16], wt);
  const add = m.nodes.find((n) => n.name === 'fc1/Add');
  assert.ok(add);
  m.removeNode(add);
  m.replaceNode('fc1/MatMul', [{ name: 'fc1/Gemm', opType: 'Gemm', input: ['x', 'fc1.weight', 'fc1.bias'], output: ['h1'], attribute: [Attr.int('transB', 1)] }]);
  const path = join(dir, 'gemm_mlp.onnx');
  await m.save(path);
  return path;
}

test('permutation alone keeps the function through a Gemm producer with transB and its bias', async () => {
  const r = await pruneModel({ path: await gemmMlp(), method: 'nm', pattern: { n: 1, m: 4 }, permute: true, permuteOnly: true, layers: ['fc2/MatMul'] }, QUIET_JOB);
  console.log(summary(r));
  assert.equal(r.layers[0].permutation?.applied, 'producer');
  assert.ok(r.validation.outputs[0].relativeL2 < 1e-5, `rel L2 ${r.validation.outputs[0].relativeL2}`);
});

test('permutation alone keeps the function on the transformer (producer for linear2, Gathers elsewhere)', async () => {
  const r = await pruneModel({ path: TRANSFORMER, method: 'nm', pattern: { n: 2, m: 4 }, permute: true, permuteOnly: true, calibration: { sequenceLength: 16 } }, QUIET_JOB);
  console.log(summary(r));
  const how = new Map(r.layers.map((l) => [l.layer, l.permutation?.applied]));
  assert.equal(how.get('/linear2/MatMul'), 'producer');
  assert.equal(how.get('/linear1/MatMul'), 'gather');
  assert.ok(r.layers.every((l) => l.permutation?.applied !== 'none'));
  assert.ok(r.validation.outputs[0].relativeL2 < 1e-5, `rel L2 ${r.validation.outputs[0].relativeL2}`);
});

test('2:4 holds exactly in the written weights; the permuted model keeps more magnitude', async () => {
  const plain = await pruneModel({ path: TRANSFORMER, method: 'nm', pattern: { n: 2, m: 4 }, calibration: { sequenceLength: 16 } }, QUIET_JOB);
  const perm = await pruneModel({ path: TRANSFORMER, method: 'nm', pattern: { n: 2, m: 4 }, permute: true, calibration: { sequenceLength: 16 } }, QUIET_JOB);
  console.log(summary(plain));
  console.log(summary(perm));
  assert.equal(basename(plain.output), 'transformer.2of4.onnx');
  assert.equal(basename(perm.output), 'transformer.2of4-1.onnx');
  const a = await writtenLayers(plain.output, 2, 4), b = await writtenLayers(perm.output, 2, 4);
  let keptPlain = 0, keptPerm = 0;
  for (const l of plain.layers) {
    const x = a.get(l.layer), y = b.get(l.layer);
    assert.ok(x && y && x.nmOk && y.nmOk, `${l.layer}: 2:4 does not hold`);
    assert.equal(x.sparsity, 0.5);
    keptPlain += x.kept;
    keptPerm += y.kept;
  }
  for (const l of perm.layers) {
    const p = l.permutation;
    assert.ok(p && p.keptAfter >= p.keptBefore);
    console.log(`  ${l.layer}: efficacy ${p.efficacy.toFixed(3)}, kept ${p.keptBefore.toFixed(3)} → ${p.keptAfter.toFixed(3)}, ${p.applied}`);
  }
  console.log(`  kept magnitude: unpermuted ${keptPlain.toFixed(3)}, permuted ${keptPerm.toFixed(3)}`);
  assert.ok(keptPerm > keptPlain);
  assert.ok(perm.validation.outputs[0].relativeL2 <= plain.validation.outputs[0].relativeL2 * 1.5);
});

test('permutation alone keeps the function on real PP-OCR layers (opset 9, Gathers on axis −1)', async () => {
  const r = await pruneModel({ path: OCR, method: 'nm', pattern: { n: 2, m: 4 }, permute: true, permuteOnly: true, layers: ['p2o.MatMul.8', 'p2o.MatMul.10'], calibration: { sequenceLength: 64 }, validationBatches: 1 }, QUIET_JOB);
  console.log(summary(r));
  assert.ok(r.layers.every((l) => l.permutation?.applied === 'gather' && l.permutation.efficacy > 0));
  assert.ok(r.validation.outputs[0].relativeL2 < 1e-5, `rel L2 ${r.validation.outputs[0].relativeL2}`);
});

test('SparseGPT has a lower layer error than magnitude pruning on real PP-OCR layers (50% and 2:4); the outputs run', async () => {
  const calibration = { samples: 4, batch: 1, sequenceLength: 640 };
  for (const pattern of [undefined, { n: 2, m: 4 }]) {
    const r = await pruneModel({ path: OCR, method: 'sparsegpt', layers: OCR_LAYERS, calibration, ...(pattern ? { pattern } : { sparsity: 0.5 }) }, QUIET_JOB);
    console.log(summary(r));
    assert.equal(r.layers.length, 3);
    for (const l of r.layers) {
      assert.ok(l.relativeError !== null && l.magnitudeRelativeError !== null);
      console.log(`  ${l.layer} ${pattern ? '2:4' : '50%'} (H from ${String(l.calibrationRows)} rows): SparseGPT ${l.relativeError.toExponential(3)}, magnitude ${l.magnitudeRelativeError.toExponential(3)}, ratio ${(l.relativeError / l.magnitudeRelativeError).toFixed(3)}`);
      assert.ok(l.relativeError < l.magnitudeRelativeError, `${l.layer}: SparseGPT ${l.relativeError} vs magnitude ${l.magnitudeRelativeError}`);
      assert.ok(Math.abs(l.sparsity - 0.5) < 0.01);
    }
    if (pattern) for (const [layer, w] of await writtenLayers(r.output, 2, 4)) if (OCR_LAYERS.includes(layer)) assert.ok(w.nmOk, layer);
    assert.ok(r.validation.outputs[0].relativeL2 < 1);
    // The same comparison on activations SparseGPT did not fit: its advantage is not overfitting to H.
    const held = await calibrate(OCR, { layers: OCR_LAYERS, batchSize: 1, sequenceLength: 640, batches: 2, seed: 4242 }, QUIET_JOB);
    const source = await OnnxModel.load(OCR), pruned = await OnnxModel.load(r.output);
    for (const t of findWeightTargets(source).targets.filter((x) => OCR_LAYERS.includes(x.layer))) {
      const W = { rows: t.outFeatures, cols: t.inFeatures, data: canonicalWeight(source, t) };
      const hc = held.layers.find((l) => l.layer === t.layer);
      assert.ok(hc);
      const H = { rows: W.cols, cols: W.cols, data: hc.hessian };
      const energy = quadraticTraceOfDifference(W, undefined, H);
      const mag = pattern ? nmMask(W, 2, 4).weights : magnitudePrune(W, 0.5).weights;
      const eMag = quadraticTraceOfDifference(W, { ...W, data: mag }, H) / energy;
      const eGpt = quadraticTraceOfDifference(W, { ...W, data: canonicalWeight(pruned, t) }, H) / energy;
      console.log(`  ${t.layer} held-out: SparseGPT ${eGpt.toExponential(3)}, magnitude ${eMag.toExponential(3)}, ratio ${(eGpt / eMag).toFixed(3)}`);
      assert.ok(eGpt < eMag, `${t.layer} held-out: SparseGPT ${eGpt} vs magnitude ${eMag}`);
    }
  }
});

test('CLI arguments become prune parameters', async () => {
  const p = await pruneParamsFromArgs(['prune', TINY, '--method', 'nm', '--pattern', '2:4', '--permute', '--layers', 'fc2', '-o', join(dir, 'x.onnx')]);
  assert.deepEqual(p, { path: TINY, method: 'nm', pattern: { n: 2, m: 4 }, permute: true, layers: ['fc2/MatMul'], output: join(dir, 'x.onnx') });
  await assert.rejects(pruneParamsFromArgs([TINY, '--method', 'nm', '--pattern', '4']), /pattern/);
  await assert.rejects(pruneParamsFromArgs([TINY, '--method', 'magnitude', '--permute']), /needs an N:M/);
  // An existing output is refused with exit code 1, and the file is left as it was.
  assert.equal(await runPrune([TINY, '--method', 'magnitude', '-o', TRANSFORMER], true), 1);
  assert.ok((await OnnxModel.load(TRANSFORMER)).getMetadata('quantscope.prune') === undefined);
});
