import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCheckpoint } from '../../../src/core/formats/registry';
import type { FindingsReport } from '../../../src/protocol/findingTypes';
import { fixture } from '../support/paths';
import { cli } from './runCliCapture';

const OUTLIERS = fixture('smooth', 'prenorm_outliers.onnx');
const SMALL = ['--samples', '2', '--batch', '2', '--seq', '16'];

test('advise --json: one object per finding, the layer named as the model spells it, the injected channels as evidence', async () => {
  const r = await cli('advise', OUTLIERS, ...SMALL, '--json');
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as FindingsReport;
  assert.equal(report.calibrated, true);
  assert.equal(report.synthetic, true);
  const nodes = new Set((await openCheckpoint(OUTLIERS)).graph?.nodes.map((n) => n.name));
  for (const f of report.findings) {
    assert.ok(nodes.has(f.layer), `${f.layer} is a node of the model`);
    assert.ok(['error', 'warning', 'info'].includes(f.severity));
    assert.equal(typeof f.message, 'string');
  }
  const q = report.findings.find((f) => f.kind === 'activation-outliers' && f.layer === '/blocks.0/q/MatMul');
  assert.deepEqual([...(q?.evidence.channels as number[])].sort((a, b) => a - b), [3, 11, 19, 27]);
  assert.deepEqual(q?.fix, { kind: 'smoothquant', alpha: 0.5 });
});

test('advise text: severity, layer, evidence and fix per finding; thresholds are options', async () => {
  const r = await cli('advise', OUTLIERS, ...SMALL, '--sensitive-top-k', '1');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^.*prenorm_outliers\.onnx: \d+ findings \(\d+ warning, \d+ info\) from weights and calibration \(SYNTHETIC/);
  assert.match(r.out, /\nWARNING \/blocks\.0\/q\/MatMul {2}\[activation-outliers\]\n {2}evidence: 4 of 32 input channels .*: (\d+, ){3}\d+; difficulty max\/median [\d.]+.*\n {2}fix: {6}Migrate the difficulty into the weights with SmoothQuant \(α = 0\.5\), then INT8 W8A8\n {2}or: {7}LLM\.int8\(\) decomposition/);
  assert.equal(r.out.match(/\[sensitive\]/g)?.length, 1);
  const bad = await cli('advise', OUTLIERS, '--kurtosis', '-1');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--kurtosis/);
});

test('advise on a checkpoint without a graph judges the weights and refuses calibration options', async () => {
  const st = fixture('workspace', 'tiny.safetensors');
  const r = await cli('advise', st, '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as FindingsReport).calibrated, false);
  const calib = await cli('advise', st, '--samples', '2');
  assert.equal(calib.code, 2);
  assert.match(calib.err, /--samples applies to ONNX models only/);
});
