import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelHeatmap, maxPool } from '../../../../src/core/stats/channelHeatmap';

test('max-pooling keeps a single outlier channel visible', () => {
  const wide = new Float64Array(4096).fill(0.01);
  wide[1234] = 50;
  const pooled = maxPool(wide, 128);
  assert.equal(pooled.length, 128);
  assert.equal(Math.max(...pooled), 50);
  assert.equal(pooled.filter((v) => v === 50).length, 1);
  assert.equal(pooled[Math.floor((1234 * 128) / 4096)], 50);
});

test('narrow layers fill fewer bins and leave the rest empty', () => {
  const pooled = maxPool([1, 2, 3], 8);
  assert.deepEqual(Array.from(pooled.subarray(0, 3)), [1, 2, 3]);
  assert.ok(pooled.subarray(3).every((v) => Number.isNaN(v)));
});

test('long models pool layers, keeping the largest value and naming the members', () => {
  const rows = Array.from({ length: 10 }, (_, i) => ({ layer: `l${i}`, absmax: [1, i === 7 ? 1000 : 1] }));
  const h = channelHeatmap(rows, 2, 5);
  assert.equal(h.layers.length, 5);
  assert.equal(h.columns, 2);
  assert.deepEqual(h.members[3], ['l6', 'l7']);
  assert.equal(h.layers[3], 'l6 … l7');
  assert.equal(h.values[3 * 2 + 1], 3); // log10(1000)
  assert.equal(h.values[0], 0);
});

test('zeros become empty cells rather than -Infinity', () => {
  const h = channelHeatmap([{ layer: 'a', absmax: [0, 10] }]);
  assert.ok(Number.isNaN(h.values[0]));
  assert.equal(h.values[1], 1);
});
