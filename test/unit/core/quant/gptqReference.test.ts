import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture } from '../../support/paths';
import { gptq, type QuantBits, type QuantScheme } from '../../../../src/core/quant';

interface Reference {
  readonly rows: number;
  readonly cols: number;
  readonly W: number[];
  readonly H: number[];
  readonly cases: ReadonlyArray<{
    bits: QuantBits; symmetric: boolean; groupSize: number; actOrder: boolean;
    codes: number[]; scales: number[]; zeroPoints: number[]; loss: number; damping: number;
  }>;
}

test('GPTQ matches an independent numpy transcription (no lazy batch, explicit inverse)', () => {
  const ref = JSON.parse(readFileSync(fixture('quant', 'gptq_reference.json'), 'utf8')) as Reference;
  const W = { rows: ref.rows, cols: ref.cols, data: Float32Array.from(ref.W) };
  const H = { rows: ref.cols, cols: ref.cols, data: Float64Array.from(ref.H) };
  assert.equal(ref.cases.length, 5);
  for (const c of ref.cases) {
    const scheme: QuantScheme = c.groupSize === 0
      ? { bits: c.bits, symmetric: c.symmetric, granularity: 'channel' }
      : { bits: c.bits, symmetric: c.symmetric, granularity: 'group', groupSize: c.groupSize };
    // A block size that does not divide the width exercises the lazy batch against the plain sweep.
    const result = gptq(W, H, { scheme, actOrder: c.actOrder, blockSize: 40 });
    const label = `${c.bits}b ${c.symmetric ? 'sym' : 'asym'} g${c.groupSize}${c.actOrder ? ' act-order' : ''}`;
    assert.deepEqual(result.deadInputs, [9], label);
    assert.ok(Math.abs(result.damping - c.damping) <= 1e-12 * c.damping, label);
    // Rounding order differs between the two, so a code sitting exactly on a rounding boundary
    // may legitimately flip; everything else must agree.
    let mismatched = 0;
    for (let i = 0; i < c.codes.length; i++) if (result.codes[i] !== c.codes[i]) mismatched++;
    assert.ok(mismatched <= 1, `${label}: ${mismatched} codes differ`);
    assert.deepEqual(Array.from(result.zeroPoints), c.zeroPoints, label);
    for (let i = 0; i < c.scales.length; i++) assert.ok(Math.abs(result.scales[i] - c.scales[i]) <= 1e-6 * Math.abs(c.scales[i]), `${label}: scale ${i}`);
    assert.ok(Math.abs(result.loss - c.loss) <= 1e-6 * c.loss, `${label}: loss ${result.loss} vs ${c.loss}`);
  }
});
