import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectMedian } from '../../../../src/core/findings/selectMedian';
import { medianOfSorted } from '../../../../src/core/stats/maxOverMedian';

test('selectMedian equals the median of the sorted values, odd and even counts, ties, sorted and reversed inputs', () => {
  let s = 7;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const cases: number[][] = [[3], [2, 1], [1, 1, 1, 1], [5, 4, 3, 2, 1], [1, 2, 3, 4, 5, 6]];
  for (let n = 1; n < 200; n += 7) cases.push(Array.from({ length: n }, () => Math.floor(rnd() * 10)), Array.from({ length: n }, rnd));
  for (const c of cases) {
    const expected = medianOfSorted(Float64Array.from(c).sort());
    assert.equal(selectMedian(Float64Array.from(c)), expected, JSON.stringify(c));
  }
  assert.ok(Number.isNaN(selectMedian(new Float64Array(0))));
});
