import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { deriveFindings } from '../../../../src/core/findings/deriveFindings';
import type { FindingsResult } from '../../../../src/protocol/workerProtocol';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { modelFindings } from '../../../../src/worker/jobs/modelFindings';
import { ProfileStore } from '../../../../src/worker/jobs/ProfileStore';
import { syntheticProfile } from '../../support/syntheticProfile';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-findings-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MODEL = join(dir, 'model.onnx');
const profile = syntheticProfile(MODEL, { blocks: 2, d: 64 });

function report(r: FindingsResult): Extract<FindingsResult, { type: 'findings' }>['report'] {
  assert.equal(r.type, 'findings', r.type === 'missing' ? r.reason : '');
  return r.report;
}

test('a kept calibration gives the same findings as the engine run where the profile is', async () => {
  const store = new ProfileStore();
  store.keep('model-1', { kind: 'model', model: profile });
  const r = report(await modelFindings({ path: MODEL, source: { type: 'kept', kind: 'model', key: 'model-1' } }, store, QUIET_JOB));
  assert.deepEqual(r, deriveFindings({ weights: profile.weights, model: profile }));
  assert.ok(r.findings.some((f) => f.kind === 'activation-outliers'), 'the injected outliers are found');
  // Thresholds travel with the request: with no top-k, no layer is called sensitive.
  const loose = report(await modelFindings({ path: MODEL, source: { type: 'kept', kind: 'model', key: 'model-1' }, thresholds: { sensitiveTopK: 0 } }, store, QUIET_JOB));
  assert.equal(loose.findings.filter((f) => f.kind === 'sensitive').length, 0);
  assert.equal(loose.thresholds.sensitiveTopK, 0);
});

test('after a restart the profile is read once from the cache file, then kept', async () => {
  const file = join(dir, 'model-2.json');
  writeFileSync(file, JSON.stringify(profile));
  const store = new ProfileStore();
  const source = { type: 'kept', kind: 'model', key: 'model-2', cacheFile: file } as const;
  const r = report(await modelFindings({ path: MODEL, source }, store, QUIET_JOB));
  assert.equal(r.calibrated, true);
  assert.equal(store.size, 1);
  rmSync(file);
  report(await modelFindings({ path: MODEL, source }, store, QUIET_JOB));
});

test('a missing, damaged or foreign profile is reported as missing, never judged', async () => {
  const store = new ProfileStore();
  const damaged = join(dir, 'damaged.json');
  writeFileSync(damaged, '{"path": ');
  for (const cacheFile of [undefined, join(dir, 'gone.json'), damaged]) {
    const r = await modelFindings({ path: MODEL, source: { type: 'kept', kind: 'model', key: 'x', ...(cacheFile ? { cacheFile } : {}) } }, store, QUIET_JOB);
    assert.equal(r.type, 'missing');
  }
  store.keep('w', { kind: 'weights', weights: profile.weights });
  // Kept as weights, asked as a calibration; or kept for another file.
  assert.equal((await modelFindings({ path: MODEL, source: { type: 'kept', kind: 'model', key: 'w' } }, store, QUIET_JOB)).type, 'missing');
  const other = await modelFindings({ path: join(dir, 'other.onnx'), source: { type: 'kept', kind: 'weights', key: 'w' } }, store, QUIET_JOB);
  assert.equal(other.type, 'missing');
  assert.match(other.type === 'missing' ? other.reason : '', /model\.onnx, not .*other\.onnx/);
});

test('an inline profile is judged as sent', async () => {
  const r = report(await modelFindings({ path: MODEL, source: { type: 'inline', weights: profile.weights } }, new ProfileStore(), QUIET_JOB));
  assert.equal(r.calibrated, false);
  assert.deepEqual(r, deriveFindings({ weights: profile.weights }));
});

test('the store keeps the most recently used profiles up to its capacity', () => {
  const store = new ProfileStore(2);
  store.keep('a', { kind: 'weights', weights: profile.weights });
  store.keep('b', { kind: 'weights', weights: profile.weights });
  assert.ok(store.get('a', 'weights'));
  store.keep('c', { kind: 'weights', weights: profile.weights });
  assert.equal(store.get('b', 'weights'), undefined, 'b was used least recently');
  assert.ok(store.get('a', 'weights') && store.get('c', 'weights'));
});
