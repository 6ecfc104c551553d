import * as assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { deriveFindings } from '../../../../src/core/findings/deriveFindings';
import type { FindingsReport } from '../../../../src/protocol/findingTypes';
import type { ModelProfile } from '../../../../src/protocol/workerProtocol';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { profileModel } from '../../../../src/worker/jobs/profileModel';
import { fixture } from '../../support/paths';

const INJECTED = [3, 11, 19, 27];
const SIZES = { samples: 2, batchSize: 2, sequenceLength: 16 } as const;

let outliers: ModelProfile;
let plain: ModelProfile;
before(async () => {
  outliers = await profileModel({ path: fixture('smooth', 'prenorm_outliers.onnx'), ...SIZES }, QUIET_JOB);
  plain = await profileModel({ path: fixture('smooth', 'prenorm.onnx'), ...SIZES }, QUIET_JOB);
});

function of(report: FindingsReport, kind: string): FindingsReport['findings'] {
  return report.findings.filter((f) => f.kind === kind);
}

test('prenorm_outliers: the layers after each norm carry activation outliers on the injected channels 3, 11, 19, 27', () => {
  const report = deriveFindings({ weights: outliers.weights, model: outliers });
  assert.equal(report.calibrated, true);
  const act = of(report, 'activation-outliers');
  // The norms feed q, k, v and fc1 of both blocks and the head: 9 layers.
  const layers = act.map((f) => f.layer).sort();
  for (const b of [0, 1]) for (const p of ['q', 'k', 'v', 'fc1']) assert.ok(layers.includes(`/blocks.${b}/${p}/MatMul`), `${b}/${p} flagged; got ${layers.join(', ')}`);
  assert.ok(layers.includes('/head/MatMul'));
  for (const f of act) {
    const channels = f.evidence.channels as readonly number[];
    // The scale-free criterion finds exactly the injected channels; they lead the list by absmax.
    assert.equal(f.evidence.aboveFactor, 4, `${f.layer}: ${f.message}`);
    assert.deepEqual([...channels.slice(0, 4)].sort((a, b) => a - b), INJECTED, f.layer);
    const cal = outliers.layers.find((l) => l.layer === f.layer);
    assert.ok(cal);
    assert.equal(f.tensor, cal.weight);
    assert.ok(Math.abs((f.evidence.difficulty as number) - (cal.difficulty ?? NaN)) < 1e-9 * (cal.difficulty ?? 1), 'difficulty as calibration measured it');
    // 4 of 32 channels is more than LLM.int8()'s few: SmoothQuant, with LLM.int8() second.
    assert.equal(f.fix?.kind, 'smoothquant');
    assert.equal(f.alternatives[0]?.kind, 'llmint8');
    assert.ok(f.message.includes('3, 11, 19, 27') || INJECTED.every((c) => f.message.includes(String(c))), f.message);
  }
});

test('the suggested α follows the measured difficulty: the weight columns shrunk by 50 absorb it at α = 0.5', () => {
  const f = of(deriveFindings({ weights: outliers.weights, model: outliers }), 'activation-outliers').find((x) => x.layer === '/blocks.0/q/MatMul');
  assert.ok(f?.fix?.kind === 'smoothquant');
  assert.equal(f.fix.alpha, 0.5);
  // The fixture's outliers were injected as gamma × 50 with the next columns ÷ 50, so x·w is flat: smoothing at 0.5 removes them.
  assert.ok((f.evidence.activationDifficultyAfter as number) < 20, `after: ${String(f.evidence.activationDifficultyAfter)}`);
  assert.ok((f.evidence.difficulty as number) > (f.evidence.activationDifficultyAfter as number));
});

test('prenorm.onnx (no injected outliers) has no scale-free activation outliers', () => {
  const act = of(deriveFindings({ weights: plain.weights, model: plain }), 'activation-outliers');
  for (const f of act) assert.equal(f.evidence.aboveFactor, 0, f.message);
});

test('few outlier channels get LLM.int8() with a threshold that keeps exactly them', () => {
  // Thresholds are settings: allow up to 1/8 of the channels to count as "few".
  const act = of(deriveFindings({ weights: outliers.weights, model: outliers, thresholds: { llmInt8MaxFraction: 0.125, activationMagnitude: 1e9 } }), 'activation-outliers');
  assert.ok(act.length >= 9);
  for (const f of act) {
    assert.equal(f.fix?.kind, 'llmint8', f.message);
    const cal = outliers.layers.find((l) => l.layer === f.layer);
    assert.ok(cal && f.fix?.kind === 'llmint8');
    const threshold = f.fix.threshold;
    const kept = cal.absmax.map((a, j) => (a >= threshold ? j : -1)).filter((j) => j >= 0);
    assert.deepEqual(kept, INJECTED, `${f.layer}: threshold ${threshold}`);
  }
});

test('the k most sensitive layers are kept at higher precision, ranked by the measured tr(ΔW H ΔWᵀ)', () => {
  const report = deriveFindings({ weights: outliers.weights, model: outliers, thresholds: { sensitiveTopK: 2 } });
  const sensitive = of(report, 'sensitive');
  assert.deepEqual(sensitive.map((f) => f.evidence.rank).sort(), [1, 2]);
  const top = outliers.layers.filter((l) => l.rank !== undefined && l.rank <= 2).map((l) => l.layer).sort();
  assert.deepEqual(sensitive.map((f) => f.layer).sort(), top);
  for (const f of sensitive) {
    const int4 = outliers.layers.find((l) => l.layer === f.layer)?.sensitivity?.candidates.find((c) => c.id === 'int4-g128')?.relativeError;
    assert.equal(f.evidence.int4G128Error, int4);
    assert.ok(f.fix?.kind === 'int8-channel' || f.fix?.kind === 'keep-float');
  }
  // Thresholds move the verdicts: everything is insensitive under a lax bound, and nothing under a strict one.
  const lax = deriveFindings({ weights: outliers.weights, model: outliers, thresholds: { insensitiveMaxError: 1, int4MaxError: 1 } });
  assert.equal(of(lax, 'insensitive').length, outliers.layers.length - 3);
  assert.ok(of(lax, 'insensitive').every((f) => f.fix?.kind === 'int4-g128'));
  const strict = deriveFindings({ weights: outliers.weights, model: outliers, thresholds: { int4MaxError: 0 } });
  assert.equal(of(strict, 'int4-error').length, outliers.layers.length);
  assert.equal(of(strict, 'insensitive').length, 0);
});

test('a bad threshold is refused by name', () => {
  assert.throws(() => deriveFindings({ weights: outliers.weights, thresholds: { kurtosis: -1 } }), /kurtosis must be a number ≥ 0/);
  assert.throws(() => deriveFindings({ weights: outliers.weights, thresholds: { sensitiveTopK: 1.5 } }), /whole number/);
});

test('findings are sorted most severe first, and every message names its numbers', () => {
  const report = deriveFindings({ weights: outliers.weights, model: outliers });
  const rank = { error: 0, warning: 1, info: 2 } as const;
  for (let i = 1; i < report.findings.length; i++) assert.ok(rank[report.findings[i - 1].severity] <= rank[report.findings[i].severity]);
  for (const f of report.findings) assert.match(f.message, /\d/, f.id);
  assert.equal(new Set(report.findings.map((f) => f.id)).size, report.findings.length, 'ids are unique');
  if (process.env.SHOW_FINDINGS) for (const f of report.findings) console.log(f.severity, f.layer, f.message, f.advice);
});
