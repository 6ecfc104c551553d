import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatNumber, fullNumber } from '../../../webview/shared/formatNumber';

test('numbers keep as many significant digits as fit the column, never more characters', () => {
  const cases: [number, string][] = [
    [256.12345, '256.1'],
    [0.012345, '0.01235'],
    [0.0012345, '0.00123'],
    [0.00012345, '1.23e-4'],
    [1.5e-12, '1.5e-12'],
    [-0.000876, '-8.8e-4'],
    [3.14159, '3.142'],
    [9.99996, '10.00'],
    [123456.7, '123457'],
    [12345678.9, '1.235e7'],
    [-3.2e20, '-3.2e20'],
    [256, '256'],
    [0, '0'],
  ];
  for (const [v, want] of cases) {
    const got = formatNumber(v);
    assert.equal(got, want, `${v}`);
    assert.ok(got.length <= 7, `${got} fits 7 characters`);
    // What is shown is the value, rounded: reading it back stays within its last digit.
    assert.ok(Math.abs(Number(got.replace('−', '-')) - v) <= Math.abs(v) * 5e-3, `${got} ≈ ${v}`);
  }
});

test('the width and digit limits are honoured, and missing or non-finite values are named', () => {
  assert.equal(formatNumber(256.12345, { width: 10, digits: 6 }), '256.123');
  assert.equal(formatNumber(0.00012345, { width: 10, digits: 6 }), '0.00012345');
  assert.equal(formatNumber(256.12345, { width: 4 }), '256');
  assert.equal(formatNumber(-1234.6, { width: 5, digits: 3 }), '-1235');
  assert.equal(formatNumber(null), '–');
  assert.equal(formatNumber(undefined), '–');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(Infinity), '∞');
  assert.equal(formatNumber(-Infinity), '−∞');
  for (const v of [Math.PI * 1e-30, -Math.E * 1e30, 7.123456789e-3, 0.1 + 0.2]) {
    for (const width of [5, 6, 7, 9]) assert.ok(formatNumber(v, { width }).length <= width, `${v} in ${width}: ${formatNumber(v, { width })}`);
  }
});

test('the tooltip carries the full value, which reads back exactly', () => {
  for (const v of [256.12345678901, 0.1 + 0.2, 1.5e-12, -3.2e20]) assert.equal(Number(fullNumber(v)), v);
  assert.equal(fullNumber(undefined), '');
});
