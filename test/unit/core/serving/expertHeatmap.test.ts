import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { expertHeatmap } from '../../../../src/core/serving';
import { QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { profileWeights } from '../../../../src/worker/jobs/profileWeights';
import { fixture } from '../../support/paths';

test("the Outliers panel's layers × experts map: log10 of each expert's largest absmax, as numpy has it", async () => {
  const profile = await profileWeights({ path: fixture('moe', 'model.safetensors') }, QUIET_JOB);
  const map = expertHeatmap(profile.tensors);
  assert.ok(map);
  const expected = JSON.parse(readFileSync(fixture('moe', 'expected.json'), 'utf8')) as { layers: { stats: { absmax: number }[] }[] };
  assert.deepEqual([map.layers, map.columns], [['layer 0 experts', 'layer 1 experts'], 4]);
  expected.layers.forEach((l, y) => l.stats.forEach((s, x) => assert.ok(Math.abs(map.values[y * 4 + x] - Math.log10(s.absmax)) < 1e-9, `layer ${y} expert ${x}`)));
  // A click on a row reveals one of that layer's expert weights.
  assert.match(map.members[1][0], /^model\.layers\.1\.block_sparse_moe\.experts\.\d\.w\d\.weight$/);
  const dense = await profileWeights({ path: fixture('decoder', 'llama', 'model.safetensors') }, QUIET_JOB);
  assert.equal(expertHeatmap(dense.tensors), undefined);
});
