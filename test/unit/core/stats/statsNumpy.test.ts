// Cross-check of the statistics kernels against numpy (float64) on the fixtures written by
// test/fixtures/stats/make_stats.py, fed in awkward chunk sizes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { computeTensorStats } from '../../../../src/core/stats/computeTensorStats';
import type { MatrixLayout } from '../../../../src/core/stats/MatrixLayout';
import { fixture } from '../../support/paths';

interface Case {
  readonly file: string;
  readonly layout: MatrixLayout | null;
  readonly stats: { readonly shape: number[] } & Record<string, unknown>;
}

const expected = JSON.parse(readFileSync(fixture('stats', 'expected.json'), 'utf8')) as Record<string, Case>;

/** Keys whose values are integers that must agree exactly. */
const EXACT = new Set(['counts', 'count', 'finiteCount', 'index', 'bits', 'groupSize', 'shape', 'rows', 'cols', 'outAxis']);
/** Ratios of counts: the counts must agree, so the ratios are equal up to division rounding. */
const FRACTIONS = new Set(['zeroFraction', 'nanFraction', 'infFraction', 'outlierFraction3Sigma', 'outlierFraction6Sigma']);
const REL = 1e-6;

function compare(path: string, exp: unknown, act: unknown, key: string, exact: boolean): void {
  if (exp === null || typeof exp !== 'object') {
    if (typeof exp === 'number' && typeof act === 'number') {
      if (exact || EXACT.has(key)) assert.equal(act, exp, path);
      else if (FRACTIONS.has(key)) assert.ok(Math.abs(act - exp) <= 1e-12, `${path}: ${act} vs numpy ${exp}`);
      else assert.ok(Math.abs(act - exp) <= REL * Math.max(Math.abs(exp), Math.abs(act)) + 1e-300, `${path}: ${act} vs numpy ${exp} (rel ${Math.abs(act - exp) / Math.abs(exp)})`);
    } else {
      assert.deepEqual(act, exp, path);
    }
    return;
  }
  assert.ok(act !== null && typeof act === 'object', `${path}: expected an object or array, got ${String(act)}`);
  if (Array.isArray(exp)) {
    assert.ok(Array.isArray(act), `${path}: expected an array`);
    assert.equal(act.length, exp.length, `${path}.length`);
    exp.forEach((e, i) => compare(`${path}[${i}]`, e, (act as unknown[])[i], key, exact || EXACT.has(key)));
    return;
  }
  for (const [k, e] of Object.entries(exp as Record<string, unknown>)) compare(`${path}.${k}`, e, (act as Record<string, unknown>)[k], k, exact);
}

function load(file: string): Float32Array {
  const b = readFileSync(fixture('stats', file));
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

async function* chunks(data: Float32Array | Float64Array, size: number): AsyncIterable<Float32Array | Float64Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(data.length, i + size));
  await Promise.resolve();
}

for (const [name, c] of Object.entries(expected)) {
  test(`statistics match numpy: ${name}`, async () => {
    const data = load(c.file);
    for (const size of [1, 7, 1000, data.length]) {
      const stats = await computeTensorStats(() => chunks(data, size), c.stats.shape, c.layout ? { layout: c.layout } : {});
      compare(`${name}/chunk ${size}`, c.stats, stats, '', false);
      // The result must survive JSON unchanged: it is what the worker sends.
      assert.deepEqual(JSON.parse(JSON.stringify(stats)), stats);
    }
    // float64 chunks give the same answer.
    const wide = Float64Array.from(data);
    const s64 = await computeTensorStats(() => chunks(wide, 333), c.stats.shape, c.layout ? { layout: c.layout } : {});
    compare(`${name}/float64`, c.stats, s64, '', false);
  });
}
