import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { canonicalWeight, findWeightTargets } from '../../../../src/core/onnx/rewrite';
import { quadraticTraceOfDifference } from '../../../../src/core/linalg/quadraticTrace';
import { dequantize, gptq, quantizeRtn, type QuantScheme } from '../../../../src/core/quant';
import { quantizeParamsFromArgs, runQuantize } from '../../../../src/cli/quantizeCommand';
import { calibrate } from '../../../../src/worker/jobs/calibrate';
import { CancelledError, QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { quantizeModel } from '../../../../src/worker/jobs/quantize';
import type { QuantizeReport } from '../../../../src/protocol/quantizeTypes';
import { captureOutput, type Captured } from '../../support/captureOutput';
import { OCR_LAYERS, transformModels } from '../../support/transformModels';

const { dir, tiny: TINY, transformer: TRANSFORMER, ocr: OCR } = transformModels('quantscope-quantize-');

function summary(r: QuantizeReport): string {
  const o = r.validation.outputs[0];
  return `${basename(r.source)} ${r.method} ${r.format} ${r.bits}-bit${r.group ? ` g${r.group}` : ''}: rel L2 ${o.relativeL2.toExponential(2)}, cosine ${o.cosine.toFixed(5)}, ` +
    `top-1 ${o.top1Agreement === null ? 'n/a' : o.top1Agreement.toFixed(3)}, KL ${o.kl === null ? 'n/a' : o.kl.toExponential(2)}, ` +
    `${r.sizes.sourceBytes} → ${r.sizes.outputBytes} bytes, ${r.sizes.bitsPerWeight.toFixed(2)} bits/weight, ${r.seconds.total.toFixed(2)} s`;
}

test('RTN INT8 QDQ on tiny_mlp: loads, small error, never overwrites', async () => {
  const r = await quantizeModel({ path: TINY, method: 'rtn', bits: 8, format: 'qdq' }, QUIET_JOB);
  console.log(summary(r));
  assert.equal(basename(r.output), 'tiny_mlp.q8.onnx');
  assert.equal(r.layers.length, 2);
  const y = r.validation.outputs[0];
  assert.ok(y.relativeL2 > 0 && y.relativeL2 < 0.02, `rel L2 ${y.relativeL2}`);
  assert.ok(y.cosine > 0.999);
  assert.equal(y.top1Agreement !== null && y.top1Agreement >= 0.5, true);
  assert.ok(r.layers.every((l) => l.sqnrDb !== null && l.sqnrDb > 35 && l.relativeError === null));
  assert.equal(r.synthetic, false, 'RTN without calibration runs no calibration');
  const again = await quantizeModel({ path: TINY, method: 'rtn', bits: 8, format: 'qdq' }, QUIET_JOB);
  assert.equal(basename(again.output), 'tiny_mlp.q8-1.onnx');
  await assert.rejects(quantizeModel({ path: TINY, output: r.output, method: 'rtn', bits: 8, format: 'qdq' }, QUIET_JOB), /already exists/);
  const written = await OnnxModel.load(r.output);
  assert.ok(written.getMetadata('quantscope.quantize')?.includes('"rtn"'));
});

test('INT4 MatMulNBits on the transformer: larger error than INT8 but below 1; a second run picks q4-1', async () => {
  const q8 = await quantizeModel({ path: TRANSFORMER, method: 'rtn', bits: 8, format: 'qdq', calibration: { samples: 2, sequenceLength: 16 } }, QUIET_JOB);
  const q4 = await quantizeModel({ path: TRANSFORMER, method: 'rtn', bits: 4, group: 32, format: 'nbits', calibration: { samples: 2, sequenceLength: 16 } }, QUIET_JOB);
  const q4b = await quantizeModel({ path: TRANSFORMER, method: 'rtn', bits: 4, group: 32, format: 'nbits' }, QUIET_JOB);
  console.log(summary(q8));
  console.log(summary(q4));
  assert.equal(basename(q4.output), 'transformer.q4.onnx');
  assert.equal(basename(q4b.output), 'transformer.q4-1.onnx');
  assert.equal(q4.layers.length, 4);
  assert.ok(q4.layers.every((l) => l.kind === 'nbits' && l.relativeError !== null));
  const e8 = q8.validation.outputs[0].relativeL2, e4 = q4.validation.outputs[0].relativeL2;
  assert.ok(e8 < 0.02 && e4 > e8 && e4 < 1, `INT8 ${e8}, INT4 ${e4}`);
  assert.ok(q4.sizes.outputBytes < q8.sizes.outputBytes && q8.sizes.outputBytes < q8.sizes.sourceBytes);
  assert.ok(q4.sizes.bitsPerWeight < 6);
  assert.equal(q4.synthetic, true);
  assert.ok(q4.warnings.some((w) => /generated inputs/.test(w)));
});

test('dynamic W8A8 (DynamicQuantizeMatMul) on the transformer runs with a small error', async () => {
  const r = await quantizeModel({ path: TRANSFORMER, method: 'rtn', bits: 8, format: 'dynamic', calibration: { sequenceLength: 16 } }, QUIET_JOB);
  console.log(summary(r));
  assert.equal(basename(r.output), 'transformer.w8a8.onnx');
  assert.ok(r.layers.every((l) => l.kind === 'dynamic'));
  assert.ok(r.layers.every((l) => l.container === 'uint8'), 'signed codes are stored shifted to uint8');
  assert.ok(r.validation.outputs[0].relativeL2 < 0.01, `rel L2 ${r.validation.outputs[0].relativeL2}`);
});

test('GPTQ beats RTN on real PP-OCR layers (INT4 g32, H from calibration taps); the output runs', async () => {
  const calibration = { samples: 4, batch: 1, sequenceLength: 640 };
  const r = await quantizeModel({ path: OCR, method: 'gptq', bits: 4, group: 32, format: 'nbits', layers: OCR_LAYERS, calibration }, QUIET_JOB);
  console.log(summary(r));
  assert.equal(r.synthetic, true);
  assert.equal(r.layers.length, 3);
  for (const l of r.layers) {
    assert.ok(l.relativeError !== null && l.rtnRelativeError !== null);
    console.log(`  ${l.layer} (${l.weight}, ${l.weights} weights, H from ${l.calibrationRows} rows): GPTQ ${l.relativeError.toExponential(3)}, RTN ${l.rtnRelativeError.toExponential(3)}, GPTQ/RTN ${(l.relativeError / l.rtnRelativeError).toFixed(3)}`);
    assert.ok(l.relativeError < l.rtnRelativeError, `${l.layer}: GPTQ ${l.relativeError} vs RTN ${l.rtnRelativeError}`);
  }
  const y = r.validation.outputs[0];
  assert.equal(y.klOver, 'probabilities');
  assert.ok(y.relativeL2 < 1 && y.top1Agreement !== null && y.top1Agreement > 0.5, JSON.stringify(y));
});

test('GPTQ beats RTN on PP-OCR layers on held-out activations too, not only on the H it minimized', async () => {
  // Wide images give each layer more rows than inputs, so H is full rank and GPTQ cannot hide error in its null space.
  const opts = { layers: OCR_LAYERS, batchSize: 1, sequenceLength: 640, batches: 4 };
  const fit = await calibrate(OCR, { ...opts, seed: 0 }, QUIET_JOB);
  const held = await calibrate(OCR, { ...opts, seed: 4242 }, QUIET_JOB);
  const model = await OnnxModel.load(OCR);
  const schemes: Record<string, QuantScheme> = {
    'INT4 g32': { bits: 4, symmetric: true, granularity: 'group', groupSize: 32 },
    'INT4 per-channel': { bits: 4, symmetric: true, granularity: 'channel' },
    'INT3 per-channel': { bits: 3, symmetric: true, granularity: 'channel' },
  };
  for (const t of findWeightTargets(model).targets.filter((x) => OCR_LAYERS.includes(x.layer))) {
    const W = { rows: t.outFeatures, cols: t.inFeatures, data: canonicalWeight(model, t) };
    const layer = (r: typeof fit): { rows: number; H: { rows: number; cols: number; data: Float64Array } } => {
      const l = r.layers.find((x) => x.layer === t.layer);
      assert.ok(l);
      return { rows: l.rows, H: { rows: W.cols, cols: W.cols, data: l.hessian } };
    };
    const a = layer(fit), b = layer(held);
    assert.ok(a.rows > W.cols, `${t.layer}: ${a.rows} rows for ${W.cols} inputs`);
    for (const [label, scheme] of Object.entries(schemes)) {
      const g = { ...W, data: dequantize(gptq(W, a.H, { scheme })) };
      const r = { ...W, data: dequantize(quantizeRtn(W, scheme)) };
      const ratio = (H: typeof a.H): number => quadraticTraceOfDifference(W, g, H) / quadraticTraceOfDifference(W, r, H);
      const inSample = ratio(a.H), heldOut = ratio(b.H);
      console.log(`  ${t.layer} ${label}: GPTQ/RTN layer error ${inSample.toFixed(3)} on the calibration H (${a.rows} rows), ${heldOut.toFixed(3)} on held-out H`);
      assert.ok(inSample < 1 && heldOut < 1, `${t.layer} ${label}: ${inSample}, ${heldOut}`);
    }
  }
});

test('a small Hessian budget calibrates layer groups one after another with the same result', async () => {
  const base = { path: TRANSFORMER, method: 'gptq', bits: 4, group: 32, format: 'nbits', calibration: { samples: 4, sequenceLength: 16 } } as const;
  const whole = await quantizeModel(base, QUIET_JOB);
  const parts = await quantizeModel({ ...base, hessianBudgetBytes: 64 * 64 * 8 }, QUIET_JOB);
  const err = (r: QuantizeReport): Record<string, number | null> => Object.fromEntries(r.layers.map((l) => [l.layer, l.relativeError]));
  assert.equal(parts.layers.length, 4);
  assert.deepEqual(err(parts), err(whole));
  const act = await quantizeModel({ ...base, actOrder: true }, QUIET_JOB);
  assert.ok(act.layers.every((l) => l.relativeError !== null && l.rtnRelativeError !== null && l.relativeError < l.rtnRelativeError));
});

test('4-bit QDQ below opset 21 becomes MatMulNBits (the model has no INT4 type)', async () => {
  const r = await quantizeModel({ path: TRANSFORMER, method: 'rtn', bits: 4, format: 'qdq' }, QUIET_JOB);
  assert.ok(r.layers.every((l) => l.kind === 'nbits' && l.bitsPerWeight < 6), JSON.stringify(r.layers.map((l) => [l.kind, l.bitsPerWeight])));
});

test('3-bit QDQ is stored in int8; nbits refuses 8 bits; grouped 3-bit QDQ below opset 21 is refused', async () => {
  const r = await quantizeModel({ path: OCR, method: 'rtn', bits: 3, format: 'qdq', layers: ['p2o.MatMul.6'], calibration: { samples: 1, sequenceLength: 32 } }, QUIET_JOB);
  console.log(summary(r));
  assert.equal(r.layers[0].container, 'int8');
  assert.ok(r.layers[0].relativeError !== null && r.layers[0].relativeError < 1);
  await assert.rejects(quantizeModel({ path: TINY, method: 'rtn', bits: 8, format: 'nbits' }, QUIET_JOB), /4-bit weights only/);
  await assert.rejects(quantizeModel({ path: OCR, method: 'rtn', bits: 3, group: 32, format: 'qdq' }, QUIET_JOB), /opset 21/);
});

test('cancellation stops the job and leaves no output behind', async () => {
  const before = readdirSync(dir).length;
  let calls = 0;
  const ctx = { isCancelled: () => calls > 2, progress: () => { calls++; } };
  await assert.rejects(quantizeModel({ path: OCR, method: 'gptq', bits: 4, group: 32, format: 'nbits', layers: OCR_LAYERS, calibration: { samples: 4, sequenceLength: 32 } }, ctx), (e: unknown) => e instanceof CancelledError);
  assert.equal(readdirSync(dir).length, before);
});

/** Runs `quantscope quantize` with its output captured. */
function cli(argv: readonly string[], json: boolean): Promise<Captured> {
  return captureOutput((output) => runQuantize(argv, json, output));
}

test('the CLI quantizes with a layer regex, prints JSON or text, and refuses an existing -o', async () => {
  const out = join(dir, 'cli.q4.onnx');
  const params = await quantizeParamsFromArgs([TRANSFORMER, '--method', 'rtn', '--bits', '4', '--group', '32', '--format', 'nbits', '--layers', 'linear', '--asym', '-o', out]);
  assert.deepEqual(params.layers, ['/linear1/MatMul', '/linear2/MatMul']);
  assert.equal(params.symmetric, false);
  const gp = await quantizeParamsFromArgs([TINY, '--method', 'gptq', '--bits', '4', '--act-order', '--damp', '0.05', '--samples', '16', '--seq', '8']);
  assert.deepEqual({ actOrder: gp.actOrder, damping: gp.damping, calibration: gp.calibration }, { actOrder: true, damping: 0.05, calibration: { samples: 16, sequenceLength: 8 } });
  const j = await cli([TRANSFORMER, '--method', 'rtn', '--bits', '4', '--group', '32', '--format', 'nbits', '--layers', 'linear', '-o', out, '--json'], true);
  assert.equal(j.code, 0, j.err);
  const report = JSON.parse(j.out) as QuantizeReport;
  assert.equal(report.output, out);
  assert.equal(report.layers.length, 2);
  const again = await cli([TRANSFORMER, '--method', 'rtn', '--bits', '4', '--group', '32', '--format', 'nbits', '-o', out], false);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists/);
  const text = await cli([TINY, '--method', 'rtn', '--bits', '8', '-o', join(dir, 'cli.q8.onnx')], false);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /rel L2/);
  console.log(text.out.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
  await assert.rejects(quantizeParamsFromArgs([TINY, '--method', 'awq', '--bits', '4']), /--method must be/);
  const bad = await cli([TINY, '--method', 'rtn', '--bits', '3', '--format', 'nbits'], false);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /4-bit weights only/);
});

test('MatMulNBits without --group takes the method table\'s default block of 128', async () => {
  const params = await quantizeParamsFromArgs([OCR, '--method', 'rtn', '--format', 'nbits', '--bits', '4', '--layers', '^p2o\\.MatMul\\.(0|8|10)$']);
  assert.equal(params.group, undefined);
  const r = await quantizeModel(params, QUIET_JOB);
  assert.equal(r.group, 128);
  assert.deepEqual(r.layers.map((l) => l.layer), OCR_LAYERS);
  assert.ok(r.layers.every((l) => l.kind === 'nbits'), JSON.stringify(r.skipped));
});
