import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { adviseLayers, printAdviceRecipe } from '../../../../src/core/findings/adviceRecipe';
import { fixJob } from '../../../../src/core/findings/fixChoices';
import { recipeConflicts } from '../../../../src/core/findings/recipeConflicts';
import { parsePlanRecipe } from '../../../../src/core/transform/quantize/planRecipe';
import { QUANTIZE_METHODS, PRUNE_METHODS } from '../../../../src/core/transform/methods';
import { validateParams } from '../../../../src/core/transform/validateParams';
import type { Finding, FindingFix } from '../../../../src/protocol/findingTypes';

function f(kind: Finding['kind'], layer: string, fix: FindingFix | null): Finding {
  return { id: `${kind}:${layer}`, kind, severity: 'info', layer, tensor: `${layer}.weight`, message: `${kind} 1.0`, evidence: {}, fix, alternatives: [], advice: kind };
}

const FINDINGS = [
  f('sensitive', 'a', { kind: 'keep-float' }),
  f('insensitive', 'b', { kind: 'int4-g128' }),
  f('activation-outliers', 'c', { kind: 'smoothquant', alpha: 0.5 }),
  f('int4-error', 'b2', { kind: 'int8-channel' }),
  f('insensitive', 'b2', { kind: 'int4-g128' }),
];

test('the advised recipe parses as a plan recipe, with the most precise recommendation per layer', () => {
  const advised = adviseLayers(['a', 'b', 'b2', 'c', 'd'], FINDINGS);
  assert.deepEqual(advised.map((l) => l.choice), ['float', 'int4-g128', 'int8-channel', 'int8-channel', 'int8-channel']);
  const recipe = parsePlanRecipe(printAdviceRecipe('m.onnx', advised));
  assert.equal(recipe.model, 'm.onnx');
  assert.equal(recipe.weights, 'gptq');
  assert.deepEqual(recipe.layers.map((l) => [l.layer, l.choice]), advised.map((l) => [l.layer, l.choice]));
  assert.match(printAdviceRecipe('m.onnx', advised), /c: int8-channel # activation-outliers: SmoothQuant/);
});

test('a recipe line below a finding\'s precision is a conflict on its line; one above it is not', () => {
  const lines = [{ layer: 'a', choice: 'int4-g128', line: 7 }, { layer: 'b', choice: 'float', line: 8 }, { layer: 'b2', choice: 'int4-channel', line: 9 }] as const;
  const c = recipeConflicts(lines, FINDINGS);
  assert.deepEqual(c.map((x) => [x.line, x.recommended]), [[7, 'float'], [9, 'int8-channel'], [9, 'int4-g128']]);
  assert.match(c[0].message, /int4-g128 goes against the evidence/);
});

test('every fix that runs a job passes the method table\'s own validation', () => {
  const fixes: FindingFix[] = [{ kind: 'smoothquant', alpha: 0.75 }, { kind: 'llmint8', threshold: 5.9 }, { kind: 'int8-channel' }, { kind: 'int4-g128' }, { kind: 'prune-2:4' }];
  for (const fix of fixes) {
    const job = fixJob(fix, ['/blocks.0/q/MatMul']);
    assert.notEqual(job.job, 'none');
    if (job.job === 'quantize') validateParams(QUANTIZE_METHODS[job.params.method], { ...job.params, path: 'm.onnx' });
    if (job.job === 'prune') validateParams(PRUNE_METHODS[job.params.method], { ...job.params, path: 'm.onnx' });
  }
  assert.equal(fixJob({ kind: 'keep-float' }, ['x']).job, 'none');
});
