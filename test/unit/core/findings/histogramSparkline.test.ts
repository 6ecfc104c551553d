import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramSparkline } from '../../../../src/core/findings/histogramSparkline';

test('histogramSparkline: one column per merged bin, log heights, blanks where nothing falls', () => {
  const counts = new Array<number>(256).fill(0);
  counts[0] = 1;
  counts[128] = 10000;
  counts[255] = 1;
  const s = histogramSparkline({ edges: Array.from({ length: 257 }, (_, i) => i), counts }, 32);
  assert.equal(s.length, 32);
  assert.equal(s[16], '█');
  assert.ok(s[0] !== ' ' && s[31] !== ' ', 'a single value in the tails stays visible');
  assert.equal(s[8], ' ');
});
