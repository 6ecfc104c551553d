import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePlanRecipe } from '../../../src/core/transform/quantize/planRecipe';
import type { WeightsOnlyProfile } from '../../../src/cli/profileCommand';
import type { ModelSummary } from '../../../src/protocol/workerProtocol';
import { fixture } from '../support/paths';
import { cli } from './runCliCapture';

const TRANSFORMER = fixture('onnx', 'transformer.onnx');
const SAFETENSORS = fixture('workspace', 'tiny.safetensors');

test('text inspect lists the tensors (name, dtype, shape, size), the rest counted with a hint', async () => {
  const json = await cli('inspect', TRANSFORMER, '--json');
  assert.equal(json.code, 0, json.err);
  const summary = JSON.parse(json.out) as ModelSummary;
  assert.equal(summary.tensors.length, 43);
  const text = await cli('inspect', TRANSFORMER);
  assert.equal(text.code, 0, text.err);
  const lines = text.out.split('\n');
  const rows = lines.slice(lines.indexOf('  tensors') + 1).filter((l) => l.startsWith('    ') && !l.includes('…'));
  assert.equal(rows.length, 40);
  for (const [i, row] of rows.entries()) {
    const t = summary.tensors[i];
    assert.deepEqual(row.trim().split(/ {2,}/), [t.name, t.dtype, `[${t.shape.join(', ')}]`, t.byteLength >= 1024 ? `${(t.byteLength / 1024).toFixed(1)} KiB` : `${t.byteLength} B`]);
  }
  assert.match(text.out, /\n {4}… 3 more tensors \(--tensors 0 lists all; --json gives every field\)\n/);
  const all = await cli('inspect', TRANSFORMER, '--tensors', '0');
  for (const t of summary.tensors) assert.ok(all.out.includes(`    ${t.name} `), t.name);
  assert.doesNotMatch(all.out, /more tensors/);
  const st = await cli('inspect', SAFETENSORS);
  assert.match(st.out, /^ {4}scalar +F32 +\[\] +4 B$/m);
});

test('text inspect shows that ONNX Runtime refused a model our reader lists', async () => {
  const r = await cli('inspect', fixture('onnx', 'external.onnx'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^ {2}runtime {5}REFUSED: ONNX Runtime could not load the model: .*Reshape/m);
  const ok = await cli('inspect', TRANSFORMER);
  assert.match(ok.out, /^ {2}runtime {5}ONNX Runtime \d+\.\d+/m);
  assert.doesNotMatch(ok.out, /REFUSED/);
});

test('profile on a safetensors checkpoint gives its weight statistics and says why nothing more', async () => {
  const text = await cli('profile', SAFETENSORS);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^tensor +dtype +shape +absmax/);
  assert.match(text.out, /\n7 tensors profiled, 10 non-floating tensors skipped/);
  assert.ok(text.out.endsWith(`${SAFETENSORS} is a safetensors checkpoint: weight statistics only. Activation statistics and layer sensitivity need an ONNX model to run.\n`));
  const json = await cli('profile', SAFETENSORS, '--json');
  assert.equal(json.code, 0, json.err);
  const p = JSON.parse(json.out) as WeightsOnlyProfile;
  assert.deepEqual([p.format, p.calibration, p.layers, p.weights.tensors.length], ['safetensors', null, [], 7]);
  // The same statistics as `stats`.
  const stats = JSON.parse((await cli('stats', SAFETENSORS, '--json')).out) as WeightsOnlyProfile['weights'];
  assert.deepEqual(p.weights.tensors.map((t) => [t.name, t.stats?.absmax]), stats.tensors.map((t) => [t.name, t.stats?.absmax]));
  const calib = await cli('profile', SAFETENSORS, '--samples', '4');
  assert.equal(calib.code, 2);
  assert.match(calib.err, /^quantscope: --samples applies to ONNX models only: calibration runs the model in ONNX Runtime, and .* is a safetensors checkpoint\./);
});

test('the plan recipe the CLI prints says how to apply it with the CLI', async () => {
  const model = fixture('smooth', 'prenorm.onnx');
  const r = await cli('quantize', model, '--method', 'plan', '--budget-bits', '5', '--samples', '2', '--seq', '8', '--plan-only');
  assert.equal(r.code, 0, r.err);
  const header = r.out.split('\n').slice(0, 2);
  assert.match(header[1], new RegExp(`^# Edit a layer's precision \\(float, int8-channel, int4-g128, int4-channel\\), then run: quantscope quantize ${model.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} --recipe THIS_FILE$`));
  assert.doesNotMatch(r.out, /Apply Recipe/);
  assert.equal(parsePlanRecipe(r.out).model, 'prenorm.onnx');
});
