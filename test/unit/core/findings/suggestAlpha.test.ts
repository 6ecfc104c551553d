import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { suggestAlpha } from '../../../../src/core/findings/suggestAlpha';

test('suggestAlpha migrates just enough: α = 0.5 for flat x·w, more as the product\'s difficulty grows', () => {
  const d = 64;
  const w = Array.from({ length: d }, (_, j) => 1 + (j % 7) / 10);
  const flat = suggestAlpha(w.map((v) => 1 / v), w, 20);
  assert.equal(flat?.alpha, 0.5);
  // x·w has max/median 10⁴ on one channel: α = 0.5 leaves 100, so α must reach 1 − log 20 / log 10⁴ ≈ 0.67 → 0.7.
  const x = w.map((v, j) => (j === 5 ? 1e4 : 1) / v);
  const s = suggestAlpha(x, w, 20);
  assert.equal(s?.alpha, 0.7);
  assert.ok((s?.activationDifficulty ?? Infinity) <= 20);
  assert.ok((s?.weightDifficulty ?? 0) > 20, 'the difficulty moved into the weight');
  assert.equal(suggestAlpha([1, 2], [1], 20), undefined);
});
