import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture } from '../../support/paths';
import {
  dequantize, layoutFor, quantizeRtn, quantizeRtnMeasured, toUnsigned, quantizeValue, quantParams, roundHalfEven, saturate, toInOutLayout,
  transposeWeight, type QuantBits, type QuantScheme,
} from '../../../../src/core/quant';
import { seededRandom } from '../../../../src/core/random/seededRandom';

const w = (rows: number, cols: number, values: number[]) => ({ rows, cols, data: Float32Array.from(values) });

test('roundHalfEven rounds ties to even, like np.round and ONNX', () => {
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(-2.5), -2);
  assert.equal(roundHalfEven(-3.5), -4);
  assert.equal(roundHalfEven(0.5), 0);
  assert.ok(roundHalfEven(-0.5) === 0);
  assert.equal(roundHalfEven(2.4999999), 2);
  assert.equal(roundHalfEven(2.5000001), 3);
  assert.equal(roundHalfEven(-7.2), -7);
  assert.equal(saturate(300, -128, 127), 127);
  assert.equal(saturate(-300, -128, 127), -128);
});

test('RTN ties: x/scale = 2.5 → 2, 3.5 → 4, −2.5 → −2 (int8 symmetric, scale exactly 1)', () => {
  const q = quantizeRtn(w(1, 6, [127, 2.5, 3.5, -2.5, -3.5, 126.5]), { bits: 8, symmetric: true, granularity: 'tensor' });
  assert.equal(q.scales[0], 1);
  assert.deepEqual(Array.from(q.codes), [127, 2, 4, -2, -4, 126]);
  assert.ok(q.codes instanceof Int8Array);
  assert.deepEqual(Array.from(dequantize(q)), [127, 2, 4, -2, -4, 126]);
});

test('saturation: asymmetric rounding of the zero point can push codes past the range', () => {
  // 4-bit asymmetric on [−7.5, 7.5]: scale = 15/15 = 1, zp = round(7.5) = 8, and 7.5 → 8 + 8 = 16 → 15.
  const q = quantizeRtn(w(1, 4, [-7.5, 0, 6.5, 7.5]), { bits: 4, symmetric: false, granularity: 'tensor' });
  assert.equal(q.scales[0], 1);
  assert.equal(q.zeroPoints[0], 8);
  assert.deepEqual(Array.from(q.codes), [0, 8, 14, 15]);
  // An explicit scale that is too small saturates at both ends of the signed range.
  assert.equal(quantizeValue(100, 1, 0, -8, 7), 7);
  assert.equal(quantizeValue(-100, 1, 0, -8, 7), -8);
  assert.equal(quantizeValue(1e30, 1e-30, 0, -128, 127), 127);
});

test('all-zero groups give scale 0, zero codes and zero dequantized values, never NaN', () => {
  for (const symmetric of [true, false]) {
    for (const scheme of [{ granularity: 'tensor' }, { granularity: 'channel' }, { granularity: 'group', groupSize: 2 }] as const) {
      const q = quantizeRtn(w(2, 4, [0, 0, 0, 0, 0, 0, 1, -1]), { bits: 4, symmetric, ...scheme });
      const d = dequantize(q);
      assert.ok(d.every((v) => Number.isFinite(v)));
      assert.deepEqual(Array.from(d.subarray(0, 6)), [0, 0, 0, 0, 0, 0]);
      if (scheme.granularity !== 'tensor') assert.equal(q.scales[0], 0);
    }
  }
  assert.deepEqual(quantParams(0, 0, 8, false), { scale: 0, zeroPoint: 0 });
  assert.throws(() => quantizeRtn(w(1, 2, [1, Infinity]), { bits: 8, symmetric: true, granularity: 'tensor' }), RangeError);
});

test('groups along the input axis, with a short last group when the size does not divide in', () => {
  const cols = 70;
  const data = Array.from({ length: 2 * cols }, (_, i) => Math.sin(i) * (1 + (i % 7)));
  const q = quantizeRtn(w(2, cols, data), { bits: 4, symmetric: true, granularity: 'group', groupSize: 32 });
  assert.equal(q.layout.groupsPerRow, 3);
  assert.equal(q.scales.length, 6);
  for (let r = 0; r < 2; r++) {
    for (let g = 0; g < 3; g++) {
      const run = data.slice(r * cols + g * 32, r * cols + Math.min((g + 1) * 32, cols));
      assert.equal(q.scales[r * 3 + g], Math.fround(Math.max(...run.map((v) => Math.abs(Math.fround(v)))) / 7));
    }
  }
  assert.throws(() => layoutFor({ bits: 4, symmetric: true, granularity: 'group' }, 2, 3), RangeError);
  assert.throws(() => layoutFor({ bits: 5 as QuantBits, symmetric: true, granularity: 'channel' }, 2, 3), RangeError);
});

test('code ranges and errors shrink with bits; asymmetric codes are unsigned', () => {
  const rows = 8, cols = 256;
  const data = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.3));
  let previous = Infinity;
  for (const bits of [3, 4, 8] as const) {
    for (const symmetric of [true, false]) {
      const q = quantizeRtn({ rows, cols, data }, { bits, symmetric, granularity: 'group', groupSize: 64 });
      const lo = symmetric ? -(2 ** (bits - 1)) : 0, hi = symmetric ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      assert.ok(q.codes.every((c) => c >= lo && c <= hi));
      assert.ok(symmetric ? q.codes instanceof Int8Array : q.codes instanceof Uint8Array);
      const d = dequantize(q);
      let err = 0;
      for (let i = 0; i < d.length; i++) err += (d[i] - data[i]) ** 2;
      if (symmetric) {
        assert.ok(err < previous, `${bits} bits`);
        previous = err;
      }
      // Round to nearest: every weight is within half a step of its reconstruction.
      for (let i = 0; i < d.length; i++) {
        const s = q.scales[Math.floor(i / cols) * 4 + Math.floor((i % cols) / 64)];
        assert.ok(Math.abs(d[i] - data[i]) <= s / 2 + 1e-6, `${bits} bits ${symmetric} at ${i}`);
      }
    }
  }
});

test('transposeWeight and toInOutLayout convert between W [out, in] and ONNX MatMul [in, out]', () => {
  const W = Float32Array.from([1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(transposeWeight(W, 2, 3)), [1, 4, 2, 5, 3, 6]);
  assert.ok(transposeWeight(W, 2, 3) instanceof Float32Array);
  assert.deepEqual(transposeWeight(transposeWeight(W, 2, 3), 3, 2), W);
  const q = quantizeRtn({ rows: 2, cols: 3, data: W }, { bits: 8, symmetric: false, granularity: 'group', groupSize: 2 });
  const t = toInOutLayout(q);
  assert.deepEqual(Array.from(t.codes), Array.from(transposeWeight(q.codes, 2, 3)));
  assert.deepEqual(Array.from(t.scales), [q.scales[0], q.scales[2], q.scales[1], q.scales[3]]);
});

test('toUnsigned re-expresses signed codes with zero point 2^(b−1), dequantizing identically', () => {
  const W = w(2, 8, [0.3, -0.7, 0.1, 0.9, -1, 0.25, 0, 0.5, 2, -2, 1, -1, 0.5, -0.5, 0, 1.5]);
  for (const bits of [3, 4, 8] as const) {
    const q = quantizeRtn(W, { bits, symmetric: true, granularity: 'group', groupSize: 4 });
    const u = toUnsigned(q);
    assert.ok(u.codes instanceof Uint8Array && u.zeroPoints instanceof Uint8Array);
    assert.ok(u.zeroPoints.every((z) => z === 2 ** (bits - 1)));
    assert.ok(u.codes.every((c) => c >= 0 && c < 2 ** bits));
    assert.deepEqual(dequantize(u), dequantize(q));
    assert.equal(toUnsigned(u), u);
  }
});

interface Reference {
  readonly matrices: Record<string, { rows: number; cols: number; data: number[] }>;
  readonly cases: ReadonlyArray<{
    matrix: string; bits: QuantBits; symmetric: boolean; granularity: 'tensor' | 'channel' | 'group';
    groupSize: number | null; codes: number[]; scales: number[]; zeroPoints: number[];
  }>;
}

test('matches the numpy reference bit for bit (codes, float32 scales, zero points)', () => {
  const ref = JSON.parse(readFileSync(fixture('quant', 'rtn_reference.json'), 'utf8')) as Reference;
  assert.equal(ref.cases.length, 4 * 3 * 2 * 6);
  for (const c of ref.cases) {
    const m = ref.matrices[c.matrix];
    const scheme: QuantScheme = { bits: c.bits, symmetric: c.symmetric, granularity: c.granularity, ...(c.groupSize === null ? {} : { groupSize: c.groupSize }) };
    const q = quantizeRtn({ rows: m.rows, cols: m.cols, data: Float32Array.from(m.data) }, scheme);
    const label = `${c.matrix} ${c.bits}b ${c.symmetric ? 'sym' : 'asym'} ${c.granularity}${c.groupSize ?? ''}`;
    assert.deepEqual(Array.from(q.scales), c.scales, `${label}: scales`);
    assert.deepEqual(Array.from(q.zeroPoints), c.zeroPoints, `${label}: zero points`);
    assert.deepEqual(Array.from(q.codes), c.codes, `${label}: codes`);
  }
});

test('the fused RTN loop gives quantizeValue\'s code for every element, ties and odd zero points included', () => {
  const rnd = seededRandom(17);
  const rows = 7, cols = 300;
  // Half-integers times a power-of-two scale put many values exactly on ties; NaN and a zero group test the edges.
  const data = Float32Array.from({ length: rows * cols }, (_, i) => (i % 3 === 0 ? Math.round(rnd() * 40 - 20) / 2 : rnd() * 2 - 1) * (i % 5 === 0 ? 8 : 1));
  data[11] = NaN;
  data.fill(0, cols, cols + 128);
  for (const scheme of [
    { bits: 8, symmetric: true, granularity: 'channel' }, { bits: 4, symmetric: false, granularity: 'group', groupSize: 128 },
    { bits: 4, symmetric: true, granularity: 'group', groupSize: 64 }, { bits: 3, symmetric: false, granularity: 'channel' },
    { bits: 8, symmetric: false, granularity: 'tensor' },
  ] as QuantScheme[]) {
    const W = { rows, cols, data };
    const q = quantizeRtn(W, scheme);
    const { layout } = q;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const s = layout.granularity === 'tensor' ? 0 : r * layout.groupsPerRow + Math.floor(c / layout.groupSize);
        assert.equal(q.codes[r * cols + c], quantizeValue(data[r * cols + c], q.scales[s], q.zeroPoints[s], layout.qmin, layout.qmax), `${JSON.stringify(scheme)} at ${r},${c}`);
      }
    }
    // Into a given array and with the SQNR sums: the same codes, and the sums of a separate pass over dequantize().
    const into = scheme.symmetric ? new Int8Array(rows * cols) : new Uint8Array(rows * cols);
    const m = quantizeRtnMeasured({ rows, cols, data: data.map((v) => (Number.isNaN(v) ? 0 : v)) }, scheme, { codes: into });
    assert.equal(m.weight.codes, into);
    const clean = data.map((v) => (Number.isNaN(v) ? 0 : v));
    const deq = dequantize(m.weight, new Float32Array(rows * cols));
    let signal = 0, noise = 0;
    for (let i = 0; i < clean.length; i++) {
      signal += clean[i] * clean[i];
      noise += (clean[i] - deq[i]) ** 2;
    }
    assert.equal(m.signal, signal);
    assert.equal(m.noise, noise);
  }
});

test('toUnsigned shifts signed codes of any alignment and length', () => {
  const backing = new Int8Array(23);
  for (let i = 0; i < backing.length; i++) backing[i] = (i % 16) - 8;
  for (const offset of [0, 1, 3]) {
    const codes = backing.subarray(offset);
    const q = { layout: layoutFor({ bits: 4, symmetric: true, granularity: 'tensor' }, 1, codes.length), codes, scales: Float32Array.of(1), zeroPoints: Int8Array.of(0) };
    assert.deepEqual(Array.from(toUnsigned(q).codes), Array.from(codes, (v) => v + 8));
  }
  const q8 = { layout: layoutFor({ bits: 8, symmetric: true, granularity: 'tensor' }, 1, 9), codes: Int8Array.of(-128, -1, 0, 1, 127, -2, 5, -100, 100), scales: Float32Array.of(1), zeroPoints: Int8Array.of(0) };
  assert.deepEqual(Array.from(toUnsigned(q8).codes), [0, 127, 128, 129, 255, 126, 133, 28, 228]);
});
