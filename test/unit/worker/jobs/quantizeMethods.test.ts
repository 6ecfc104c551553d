import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { parsePlanRecipe } from '../../../../src/core/transform/quantize/planRecipe';
import { quantizeParamsFromArgs, runQuantize } from '../../../../src/cli/quantizeCommand';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { planQuantization } from '../../../../src/worker/jobs/planQuantization';
import { quantizeModel } from '../../../../src/worker/jobs/quantize';
import type { QuantizeParams, QuantizeReport } from '../../../../src/protocol/quantizeTypes';
import { captureOutput, type Captured } from '../../support/captureOutput';
import { fixture } from '../../support/paths';
import { OCR_LAYERS, transformModels } from '../../support/transformModels';

const { dir, copy, transformer: TRANSFORMER, ocr: OCR } = transformModels('quantscope-methods-');
const PRENORM = copy(fixture('smooth', 'prenorm.onnx'));
const OUTLIERS = copy(fixture('smooth', 'prenorm_outliers.onnx'));
const INJECTED = (JSON.parse(readFileSync(fixture('smooth', 'expected.json'), 'utf8')) as { outlierChannels: number[] }).outlierChannels;
const CALIBRATION = { samples: 8, sequenceLength: 16 } as const;

function err(r: QuantizeReport): number {
  return r.validation.outputs[0].relativeL2;
}

function line(r: QuantizeReport): string {
  const o = r.validation.outputs[0];
  return `${basename(r.output)} [${r.method}/${r.format}]: rel L2 ${o.relativeL2.toExponential(3)}, cosine ${o.cosine.toFixed(5)}, top-1 ${o.top1Agreement?.toFixed(3) ?? 'n/a'}, ` +
    `${r.layers.length} layers, ${r.sizes.bitsPerWeight.toFixed(2)} bits/weight, ${r.sizes.sourceBytes} → ${r.sizes.outputBytes} bytes; ` +
    `time ${r.seconds.total.toFixed(2)} s (calibration ${r.seconds.calibration.toFixed(2)}, quantization ${r.seconds.quantization.toFixed(2)}, write ${r.seconds.write.toFixed(2)}, validation ${r.seconds.validation.toFixed(2)})`;
}

test('SmoothQuant lowers the static and dynamic W8A8 error on a model with activation outlier channels', async () => {
  const results: Record<string, number> = {};
  for (const format of ['static', 'dynamic'] as const) {
    const plain = await quantizeModel({ path: OUTLIERS, method: 'rtn', bits: 8, format, calibration: CALIBRATION }, QUIET_JOB);
    const smooth = await quantizeModel({ path: OUTLIERS, method: 'smoothquant', bits: 8, format, calibration: CALIBRATION }, QUIET_JOB);
    console.log(`  ${line(plain)}\n  ${line(smooth)}`);
    console.log(`  ${format} W8A8 on prenorm_outliers: SmoothQuant/plain output error ${(err(smooth) / err(plain)).toFixed(3)}`);
    results[format] = err(smooth) / err(plain);
    assert.ok(err(smooth) < err(plain), `${format}: SmoothQuant ${err(smooth)} vs plain ${err(plain)}`);
    assert.equal(smooth.layers.length, plain.layers.length);
    assert.ok(smooth.layers.every((l) => l.kind === format));
    const sm = smooth.smoothing ?? [];
    assert.ok(sm.length > 0);
    // q, k, v share the LayerNorm output: one s for all three, folded into its γ and β.
    const qkv = sm.filter((s) => s.layers.length === 3);
    assert.equal(qkv.length, 2);
    assert.ok(qkv.every((s) => s.foldedInto?.opType === 'LayerNormalization' && s.mulNode === null));
    for (const s of sm) assert.ok(s.difficultyBefore !== null && s.difficultyAfter !== null && s.difficultyAfter < s.difficultyBefore, JSON.stringify(s));
    const meta = (await OnnxModel.load(smooth.output)).getMetadata('quantscope.quantize') ?? '';
    assert.match(meta, /"smoothquant"/);
  }
  assert.ok(results.static < 0.8, `static: ${results.static}`);
});

test('static W8A8 writes one QuantizeLinear per activation and runs in ONNX Runtime', async () => {
  const r = await quantizeModel({ path: PRENORM, method: 'rtn', bits: 8, format: 'static', calibration: CALIBRATION }, QUIET_JOB);
  console.log(`  ${line(r)}`);
  assert.equal(basename(r.output), 'prenorm.w8a8s.onnx');
  assert.ok(r.layers.every((l) => l.kind === 'static' && l.activation !== undefined && l.activation.scale > 0 && l.activation.zeroPoint === 128));
  const model = await OnnxModel.load(r.output);
  const q = model.nodes.filter((n) => n.opType === 'QuantizeLinear');
  const inputs = new Set(q.map((n) => n.input?.[0]));
  assert.equal(inputs.size, q.length, 'one QuantizeLinear per activation');
  assert.ok(q.length < r.layers.length, `${q.length} activations for ${r.layers.length} layers (q, k, v share)`);
  assert.ok(err(r) < 0.05, `${err(r)}`);
  await assert.rejects(quantizeModel({ path: PRENORM, method: 'rtn', bits: 4, format: 'static' }, QUIET_JOB), /8-bit weights/);
});

test('LLM.int8() keeps the injected outlier channels in float and beats plain dynamic W8A8', async () => {
  const plain = await quantizeModel({ path: OUTLIERS, method: 'rtn', bits: 8, format: 'dynamic', calibration: CALIBRATION }, QUIET_JOB);
  const mixed = await quantizeModel({ path: OUTLIERS, method: 'llmint8', bits: 8, format: 'dynamic', calibration: CALIBRATION }, QUIET_JOB);
  console.log(`  ${line(plain)}\n  ${line(mixed)}`);
  console.log(`  LLM.int8()/plain output error ${(err(mixed) / err(plain)).toFixed(3)}`);
  assert.equal(basename(mixed.output), 'prenorm_outliers.int8mix.onnx');
  assert.ok(err(mixed) < err(plain), `decomposed ${err(mixed)} vs plain ${err(plain)}`);
  const decomposed = mixed.layers.filter((l) => l.kind === 'decomposed');
  assert.ok(decomposed.length >= 7, decomposed.map((l) => l.layer).join(', '));
  // The layers fed by a norm see the injected channels as outliers.
  for (const l of decomposed.filter((x) => /\/(q|k|v|fc1)\/MatMul|head/.test(x.layer))) {
    for (const c of INJECTED) assert.ok(l.outlierChannels?.includes(c), `${l.layer}: ${String(l.outlierChannels)}`);
  }
  const model = await OnnxModel.load(mixed.output);
  assert.ok(model.nodes.some((n) => n.opType === 'Gather') && model.nodes.some((n) => n.opType === 'DynamicQuantizeMatMul'));
  const st = await quantizeModel({ path: OUTLIERS, method: 'llmint8', bits: 8, format: 'static', calibration: CALIBRATION }, QUIET_JOB);
  console.log(`  ${line(st)}`);
  assert.ok(st.layers.some((l) => l.kind === 'decomposed'));
  assert.ok(err(st) < 0.2, `${err(st)}`);
  // Nothing reaches a huge threshold: every layer goes to plain W8A8, and the report says so.
  const none = await quantizeModel({ path: OUTLIERS, method: 'llmint8', bits: 8, format: 'dynamic', threshold: 1e9, calibration: CALIBRATION }, QUIET_JOB);
  assert.ok(none.layers.every((l) => l.kind === 'dynamic'));
  assert.ok(none.warnings.some((w) => /no input channel reached/.test(w)));
});

test('a mixed-precision plan on PP-OCR meets its budget, and an edited plan is applied as written', async () => {
  const calibration = { samples: 2, sequenceLength: 320 };
  const planned = await planQuantization({ path: OCR, budget: { kind: 'bits', bitsPerWeight: 6 }, calibration }, QUIET_JOB);
  const counts: Record<string, number> = {};
  for (const l of planned.plan.layers) counts[l.choice] = (counts[l.choice] ?? 0) + 1;
  console.log(`  PP-OCR plan at 6 bits: ${planned.plan.bitsPerWeight.toFixed(2)} bits/weight, summed error ${planned.plan.totalError.toExponential(3)}, ${JSON.stringify(counts)}, ${planned.seconds.toFixed(2)} s`);
  assert.ok(planned.plan.feasible && planned.plan.bitsPerWeight <= 6);
  assert.ok(Object.keys(counts).length >= 2, 'a budget between INT4 and INT8 mixes precisions');
  const r = await quantizeModel({ path: OCR, method: 'plan', bits: 8, format: 'qdq', budget: { kind: 'bits', bitsPerWeight: 6 }, calibration }, QUIET_JOB);
  console.log(`  ${line(r)}`);
  assert.deepEqual(r.plan?.choices, Object.fromEntries(planned.plan.layers.map((l) => [l.layer, l.choice])));
  for (const l of r.layers) assert.equal(l.choice, r.plan?.choices[l.layer]);
  const stored = r.plan?.storedBitsPerWeight ?? Infinity;
  console.log(`  planned ${r.plan?.plannedBitsPerWeight?.toFixed(3) ?? '–'} bits per weight, stored ${stored.toFixed(3)} over the planned layers`);
  // The planner budgets what the writer stores (MatMulNBits pads rows to whole blocks).
  assert.ok(stored <= 6, `stored ${stored} bits per weight over the planned layers`);
  assert.ok(Math.abs(stored - (r.plan?.plannedBitsPerWeight ?? 0)) < 0.01, `planned ${r.plan?.plannedBitsPerWeight} vs stored ${stored}`);
  assert.ok(err(r) < 0.5);

  // An edited plan: three layers as the user set them, the rest float.
  const edited = { [OCR_LAYERS[0]]: 'int8-channel', [OCR_LAYERS[1]]: 'int4-g128', [OCR_LAYERS[2]]: 'float' } as const;
  const e = await quantizeModel({ path: OCR, method: 'plan', bits: 8, format: 'qdq', plan: edited }, QUIET_JOB);
  assert.deepEqual(e.layers.map((l) => [l.layer, l.choice, l.bits]), [[OCR_LAYERS[0], 'int8-channel', 8], [OCR_LAYERS[1], 'int4-g128', 4]]);
  assert.ok(e.skipped.some((s) => s.layer === OCR_LAYERS[2] && /float by the plan/.test(s.reason)));
  await assert.rejects(quantizeModel({ path: OCR, method: 'plan', bits: 8, format: 'qdq', plan: { nope: 'int8-channel' } }, QUIET_JOB), /no rewritable/);
  await assert.rejects(quantizeModel({ path: OCR, method: 'plan', bits: 8, format: 'qdq', plan: { [OCR_LAYERS[0]]: 'float' } }, QUIET_JOB), /every layer in float/);
  await assert.rejects(quantizeModel({ path: OCR, method: 'plan', bits: 8, format: 'qdq', plan: JSON.parse(`{"${OCR_LAYERS[0]}": "int2"}`) as Record<string, 'float'> }, QUIET_JOB), /precision "int2"/);
});

test('every method runs end to end on the torch transformer and on PP-OCR', async () => {
  const runs: { path: string; method: 'rtn' | 'gptq' | 'smoothquant' | 'llmint8' | 'plan'; format: 'qdq' | 'nbits' | 'dynamic' | 'static'; bits: 8 | 4 }[] = [];
  for (const path of [TRANSFORMER, OCR]) {
    runs.push({ path, method: 'rtn', format: 'nbits', bits: 4 }, { path, method: 'gptq', format: 'nbits', bits: 4 }, { path, method: 'smoothquant', format: 'static', bits: 8 }, { path, method: 'llmint8', format: 'dynamic', bits: 8 }, { path, method: 'plan', format: 'qdq', bits: 8 });
  }
  for (const run of runs) {
    const calibration = run.path === OCR ? { samples: 2, sequenceLength: 320 } : CALIBRATION;
    const r = await quantizeModel({ ...run, ...(run.bits === 4 ? { group: 32 } : {}), ...(run.method === 'plan' ? { budget: { kind: 'bits', bitsPerWeight: 5 } } : {}), calibration } as QuantizeParams, QUIET_JOB);
    console.log(`  ${line(r)}`);
    assert.ok(r.layers.length > 0);
    assert.ok(Number.isFinite(err(r)) && err(r) < 1, `${run.method}: ${err(r)}`);
  }
});

/** Runs `quantscope quantize` with its output captured. */
function cli(argv: readonly string[], json: boolean): Promise<Captured> {
  return captureOutput((output) => runQuantize(argv, json, output));
}

test('the CLI takes --method smoothquant|llmint8|plan, --alpha, --threshold, --budget-bits, --plan-only and --recipe', async () => {
  const sq = await quantizeParamsFromArgs([PRENORM, '--method', 'smoothquant', '--alpha', '0.75']);
  assert.deepEqual([sq.method, sq.format, sq.bits, sq.alpha], ['smoothquant', 'static', 8, 0.75]);
  const li = await quantizeParamsFromArgs([PRENORM, '--method', 'llmint8', '--threshold', '4']);
  assert.deepEqual([li.format, li.threshold], ['dynamic', 4]);
  const pl = await quantizeParamsFromArgs([PRENORM, '--method', 'plan', '--budget-bits', '5', '--weights', 'gptq']);
  assert.deepEqual([pl.budget, pl.weights], [{ kind: 'bits', bitsPerWeight: 5 }, 'gptq']);
  await assert.rejects(quantizeParamsFromArgs([PRENORM, '--method', 'plan']), /needs --budget-bits/);
  await assert.rejects(quantizeParamsFromArgs([PRENORM, '--method', 'smoothquant', '--alpha', '2']), /--alpha must be/);
  await assert.rejects(quantizeParamsFromArgs([PRENORM, '--method', 'plan', '--budget-bits', '5', '--budget-error', '0.1']), /not both/);

  const text = await cli([PRENORM, '--method', 'smoothquant', '--samples', '4', '--seq', '16', '-o', join(dir, 'cli.sq.onnx')], false);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /SmoothQuant \(α 0\.5\)/);
  assert.match(text.out, /folded into LayerNormalization/);

  const plan = await cli([PRENORM, '--method', 'plan', '--budget-bits', '5', '--samples', '4', '--seq', '16', '--plan-only'], false);
  assert.equal(plan.code, 0, plan.err);
  const recipe = parsePlanRecipe(plan.out);
  assert.equal(recipe.model, 'prenorm.onnx');
  assert.ok(recipe.layers.length >= 10);
  // Hand edit: the head goes to float.
  const head = recipe.layers.find((l) => /head/.test(l.layer));
  assert.ok(head);
  const editedText = plan.out.replace(new RegExp(`^(\\s*['"]?${head.layer.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"]?:\\s*)[\\w-]+`, 'm'), '$1float');
  const recipeFile = join(dir, 'prenorm.plan.qrecipe.yaml');
  writeFileSync(recipeFile, editedText);
  const applied = await cli(['--recipe', recipeFile, '-o', join(dir, 'cli.mixed.onnx'), '--json'], true);
  assert.equal(applied.code, 0, applied.err);
  const report = JSON.parse(applied.out) as QuantizeReport;
  assert.equal(report.plan?.choices[head.layer], 'float');
  assert.ok(!report.layers.some((l) => l.layer === head.layer));
  assert.ok(report.skipped.some((s) => s.layer === head.layer));
});
