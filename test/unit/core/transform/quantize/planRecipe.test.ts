import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMixedPrecision, type PlanBudget, type PlanLayer } from '../../../../../src/core/quant';
import { parsePlanRecipe, printPlanRecipe, RecipeError, type PlanRecipe } from '../../../../../src/core/transform/quantize/planRecipe';
import { seededRandom } from '../../../../../src/core/random/seededRandom';

/** Names YAML must quote or could misread: numbers, booleans, nulls, indicators, colons, hashes, unicode. */
const NAMES = [
  'p2o.MatMul.0', '/blocks.0/q/MatMul', '/blocks.0/mlp/fc1/MatMul_1', 'true', 'null', '1.0', '0x1f', '~', 'a: b', '# not a comment',
  'x #y', "it's", '"quoted"', '- dash', '? what', '[0]', '{x}', '@at', '`tick`', '*star', '&amp', '!bang', '%pct', 'name with  spaces',
  ' lead', 'trail ', 'Encoder/层.0', '__proto__', 'constructor', 'yes', 'NO', '.inf', '-', 'a\\b', 'tab\there', '|', '>', 'key:', 'x'.repeat(1200),
];

function layersFor(names: readonly string[], seed: number): PlanLayer[] {
  const rand = seededRandom(seed);
  return names.map((layer, i) => ({
    layer,
    inFeatures: 64 + 32 * (i % 9),
    outFeatures: 8 + (i % 5),
    errors: i % 7 === 3 ? { 'int8-channel': 1e-4 * rand() } : { 'int8-channel': 1e-4 * rand(), 'int4-g128': 3e-3 * rand(), 'int4-channel': 1e-2 * rand() },
  }));
}

test('round trip: print → parse gives the same model, weights, budget and choices, in order', () => {
  for (const budget of [{ kind: 'bits', bitsPerWeight: 6 }, { kind: 'bits', bitsPerWeight: 5.125 }, { kind: 'error', maxError: 3.1e-3 }, { kind: 'error', maxError: 2.5e-7 }] as PlanBudget[]) {
    const layers = layersFor(NAMES, 1);
    const plan = planMixedPrecision(layers, budget);
    for (const weights of ['rtn', 'gptq'] as const) {
      const text = printPlanRecipe(plan, { model: 'models/ppocr rec: v2.onnx', weights, layers, budget });
      const r = parsePlanRecipe(text);
      assert.equal(r.model, 'models/ppocr rec: v2.onnx');
      assert.equal(r.weights, weights);
      assert.deepEqual(r.budget, budget);
      assert.deepEqual(r.layers.map((l) => [l.layer, l.choice]), plan.layers.map((l) => [l.layer, l.choice]));
      // Parsing is unaffected by CRLF line endings.
      assert.deepEqual(parsePlanRecipe(text.replace(/\n/g, '\r\n')).layers.map((l) => l.layer), NAMES);
    }
  }
});

test('printed recipe: header totals, edit hint, settings and per-layer comments', () => {
  const layers: PlanLayer[] = [
    { layer: 'p2o.MatMul.0', inFeatures: 480, outFeatures: 120, errors: { 'int8-channel': 1.2e-4, 'int4-g128': 3.0e-3, 'int4-channel': 1.1e-2 } },
    { layer: '/blocks.0/q/MatMul', inFeatures: 256, outFeatures: 256, errors: { 'int8-channel': 2e-5 } },
  ];
  const budget: PlanBudget = { kind: 'bits', bitsPerWeight: 6 };
  const plan = planMixedPrecision(layers, budget);
  const text = printPlanRecipe(plan, { model: 'ppocr_rec.onnx', weights: 'rtn', layers, budget });
  const lines = text.split('\n');
  assert.match(lines[0], /^# Mixed-precision plan for ppocr_rec\.onnx: \d\.\d\d bits per weight \(budget 6\), summed error \d\.\de-\d\.$/);
  assert.equal(lines[1], '# Edit a layer\'s precision (float, int8-channel, int4-g128, int4-channel), then run "Quantscope: Apply Recipe".');
  assert.ok(lines.includes('model: ppocr_rec.onnx # relative to this file'));
  assert.ok(lines.includes('method: plan'));
  assert.ok(lines.includes('weights: rtn # rtn or gptq'));
  assert.ok(lines.includes('budget-bits: 6'));
  assert.ok(lines.includes('layers:'));
  const choice = plan.layers[0].choice;
  assert.ok(lines.includes(`  p2o.MatMul.0: ${choice} # 120×480, errors int8 1.2e-4 · int4-g128 3.0e-3 · int4-ch 1.1e-2`), text);
  assert.ok(lines.includes(`  /blocks.0/q/MatMul: ${plan.layers[1].choice} # 256×256, errors int8 2.0e-5`), text);

  const e = printPlanRecipe(planMixedPrecision(layers, { kind: 'error', maxError: 1e-3 }), { model: 'm.onnx', weights: 'gptq', layers, budget: { kind: 'error', maxError: 1e-3 } });
  assert.match(e, /\(error budget 1\.0e-3\)/);
  assert.match(e, /^budget-error: 0\.001$/m);

  const infeasible = planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: 2 });
  assert.match(printPlanRecipe(infeasible, { model: 'm.onnx', weights: 'rtn', layers, budget: { kind: 'bits', bitsPerWeight: 2 } }), /^# Infeasible: even the smallest/m);
});

test('hand-edited recipes parse: comments, quoting, flow style, defaults', () => {
  const text = [
    '# my plan, tweaked by hand',
    '',
    'model: "../models/ppocr_rec.onnx"   # moved',
    'method: plan',
    'budget-error: 3e-3',
    'layers:',
    '    p2o.MatMul.0:   int8-channel    # keep this one accurate',
    "    '/blocks.0/q/MatMul': float",
    '    "true": int4-g128',
    '    1.0: int4-channel',
    '',
    '    # the head stays float',
    '    head/MatMul: float',
    '',
  ].join('\n');
  const r: PlanRecipe = parsePlanRecipe(text);
  assert.equal(r.model, '../models/ppocr_rec.onnx');
  assert.equal(r.weights, 'rtn', 'weights default to RTN');
  assert.deepEqual(r.budget, { kind: 'error', maxError: 3e-3 });
  assert.deepEqual(r.layers, [
    { layer: 'p2o.MatMul.0', choice: 'int8-channel', line: 7 },
    { layer: '/blocks.0/q/MatMul', choice: 'float', line: 8 },
    { layer: 'true', choice: 'int4-g128', line: 9 },
    { layer: '1.0', choice: 'int4-channel', line: 10 },
    { layer: 'head/MatMul', choice: 'float', line: 13 },
  ]);

  const flow = parsePlanRecipe('model: m.onnx\nmethod: plan\nweights: gptq\nlayers: { a.b: float, c/d: int4-g128 }\n');
  assert.equal(flow.weights, 'gptq');
  assert.equal(flow.budget, undefined);
  assert.deepEqual(flow.layers.map((l) => [l.layer, l.choice]), [['a.b', 'float'], ['c/d', 'int4-g128']]);
  assert.deepEqual(parsePlanRecipe('model: m.onnx\nmethod: plan\nlayers: {}\n').layers, []);
});

/** Parses `text` expecting a RecipeError on `line` whose message matches `pattern`. */
function rejects(text: string, line: number, pattern: RegExp): void {
  assert.throws(() => parsePlanRecipe(text), (e: unknown) => {
    assert.ok(e instanceof RecipeError, `expected a RecipeError, got ${String(e)}`);
    assert.equal(e.line, line, e.message);
    assert.match(e.message, new RegExp(`^line ${line}: `));
    assert.match(e.message, pattern);
    return true;
  });
}

const HEAD = 'model: m.onnx\nmethod: plan\nweights: rtn\nbudget-bits: 6\nlayers:\n';

test('errors name the line and the problem', () => {
  rejects(`${HEAD}  a: int4-g128\n  b: int3\n`, 7, /unknown precision `int3` for layer `b`; valid: float, int8-channel, int4-g128, int4-channel$/);
  rejects(`${HEAD}  a: int8\n`, 6, /unknown precision `int8` for layer `a` \(did you mean `int8-channel`\?\); valid: float, int8-channel/);
  rejects(`${HEAD}  a: INT4-G128\n`, 6, /did you mean `int4-g128`/);
  rejects(`${HEAD}  a:\n`, 6, /layer `a` needs one precision: float, int8-channel, int4-g128, int4-channel/);
  rejects(`${HEAD}  a: [float]\n`, 6, /layer `a` needs one precision/);
  rejects(`${HEAD}  /x/MatMul: float\n  b: float\n  /x/MatMul: int8-channel\n`, 8, /duplicate layer `\/x\/MatMul` \(first on line 6\)/);
  rejects('method: plan\nlayers:\n  a: float\n', 1, /missing `model`/);
  rejects('model: m.onnx\nlayers:\n  a: float\n', 1, /missing `method: plan`/);
  rejects('model: m.onnx\nmethod: gptq\nlayers:\n  a: float\n', 2, /method must be `plan` in a mixed-precision plan recipe, got `gptq`/);
  rejects('model: m.onnx\nmethod: plan\n', 1, /missing `layers`/);
  rejects('model: ""\nmethod: plan\nlayers: {}\n', 1, /`model` is empty/);
  rejects('model: m.onnx\nmethod: plan\nlayers:\n  - a: float\n', 4, /`layers` must be a mapping of layer name to precision.*not a list/);
  rejects('model: m.onnx\nmethod: plan\nlayers: int8-channel\n', 3, /`layers` must be a mapping/);
  rejects('- model: m.onnx\n- method: plan\n', 1, /a recipe must be a mapping of keys \(model, method, weights, budget-bits, budget-error, layers\), not a list/);
  rejects('just text\n', 1, /must be a mapping.*not a single value/);
  rejects('', 1, /the recipe is empty/);
  rejects('# only a comment\n', 1, /the recipe is empty/);
  rejects('model: m.onnx\nmethod: plan\nwieghts: gptq\nlayers: {}\n', 3, /unknown key `wieghts`; valid keys: model, method, weights, budget-bits, budget-error, layers/);
  rejects('model: m.onnx\nmethod: plan\nmodel: n.onnx\nlayers: {}\n', 3, /duplicate key `model` \(first on line 1\)/);
  rejects('model: m.onnx\nmethod: plan\nweights: awq\nlayers: {}\n', 3, /unknown weights method `awq`; valid: rtn, gptq/);
  rejects('model: m.onnx\nmethod: plan\nbudget-bits: six\nlayers: {}\n', 3, /`budget-bits` must be a positive number of bits per weight, got `six`/);
  rejects('model: m.onnx\nmethod: plan\nbudget-bits: 0\nlayers: {}\n', 3, /`budget-bits` must be a positive number/);
  rejects('model: m.onnx\nmethod: plan\nbudget-error: -1\nlayers: {}\n', 3, /`budget-error` must be a number ≥ 0, got `-1`/);
  rejects('model: m.onnx\nmethod: plan\nbudget-bits: 6\nbudget-error: 1e-3\nlayers: {}\n', 4, /either `budget-bits` or `budget-error`, not both/);
  rejects('model: [a, b]\nmethod: plan\nlayers: {}\n', 1, /`model` must be a single value/);
});

test('YAML syntax errors carry their line', () => {
  rejects(`${HEAD}  a: float\n  b: "int8-channel\n`, 7, /^line 7: YAML syntax error: /);
  // Over-indenting b continues a's value, which YAML reports on a's line.
  rejects(`${HEAD}  a: float\n   b: float\n`, 6, /YAML syntax error: Nested mappings/);
  rejects(`${HEAD}  a: float\n b: float\n`, 7, /YAML syntax error: All mapping items must start at the same column/);
  rejects(`${HEAD}  a: float\n  b: float: x\n`, 7, /YAML syntax error/);
  // An unclosed flow sequence is noticed on the next line.
  rejects(`${HEAD}  a: float\n  b: [int8-channel\n  c: float\n`, 8, /YAML syntax error/);
  rejects('model: m.onnx\nmethod: plan\nlayers: {}\n---\nmodel: n.onnx\n', 4, /YAML syntax error: .*multiple documents/);
  rejects('model: m.onnx\n\tmethod: plan\n', 2, /YAML syntax error/);
});
