// Properties of the statistics kernels that need no reference data: chunking invariance,
// moment merging, degenerate tensors, the quantization kernels against the scalar helpers,
// cancellation and progress.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeTensorStats, StatsCancelledError } from '../../../../src/core/stats/computeTensorStats';
import { LogHistogram } from '../../../../src/core/stats/LogHistogram';
import { linspaceEdges } from '../../../../src/core/stats/linspaceEdges';
import type { MatrixLayout } from '../../../../src/core/stats/MatrixLayout';
import { Moments } from '../../../../src/core/stats/Moments';
import { asymmetricParams, fakeQuantize, roundHalfToEven, symmetricParams } from '../../../../src/core/stats/quantizeLinear';
import type { TensorStats } from '../../../../src/core/stats/TensorStats';

/** Deterministic xorshift generator, so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

async function* chunked(data: Float32Array | Float64Array, sizes: () => number): AsyncIterable<Float32Array | Float64Array> {
  for (let i = 0; i < data.length; ) {
    const n = Math.max(1, sizes());
    yield data.subarray(i, Math.min(data.length, i + n));
    i += n;
  }
  await Promise.resolve();
}

function close(a: number | null, b: number | null, rel: number, what: string): void {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);
}

function assertSameStats(a: TensorStats, b: TensorStats): void {
  for (const k of ['min', 'max', 'absmax', 'count', 'finiteCount', 'zeroFraction', 'nanFraction', 'infFraction', 'outlierFraction3Sigma', 'outlierFraction6Sigma'] as const) {
    assert.equal(a[k], b[k], k);
  }
  for (const k of ['mean', 'std', 'kurtosis'] as const) close(a[k], b[k], 1e-12, k);
  assert.deepEqual(a.histogram, b.histogram);
  assert.deepEqual(a.logHistogram, b.logHistogram);
  assert.deepEqual(a.channels, b.channels);
  assert.equal(a.quantization.length, b.quantization.length);
  a.quantization.forEach((q, i) => {
    close(q.sqnrDb, b.quantization[i].sqnrDb, 1e-12, q.scheme);
    close(q.relativeError, b.quantization[i].relativeError, 1e-12, q.scheme);
  });
}

test('chunk boundaries do not change the result', async () => {
  const r = rng(7);
  const data = new Float32Array(143 * 140);
  for (let i = 0; i < data.length; i++) data[i] = normal(r) * 0.1 + (i % 97 === 0 ? 5 : 0);
  data[123] = NaN;
  data[4097] = Infinity;
  data[9000] = 0;
  const layout: MatrixLayout = { rows: 143, cols: 140, outAxis: 1 };
  const whole = await computeTensorStats(() => chunked(data, () => data.length), [143, 140], { layout });
  for (const seed of [1, 2, 3]) {
    const rs = rng(seed);
    const pieces = await computeTensorStats(() => chunked(data, () => Math.floor(rs() * 5000)), [143, 140], { layout });
    assertSameStats(pieces, whole);
  }
});

test('merged moments equal the moments of the union', () => {
  const r = rng(11);
  const all = new Float64Array(3000);
  for (let i = 0; i < all.length; i++) all[i] = 1e3 + normal(r) ** 3;
  const sum = (a: Float64Array): number => a.reduce((s, x) => s + x, 0);
  const whole = new Moments();
  whole.pushBlock(all, all.length, sum(all));
  const a = new Moments();
  const b = new Moments();
  const left = all.slice(0, 1234);
  const right = all.slice(1234);
  a.pushBlock(left, left.length, sum(left));
  b.pushBlock(right, right.length, sum(right));
  a.mergeFrom(b);
  assert.equal(a.n, whole.n);
  close(a.mean, whole.mean, 1e-14, 'mean');
  close(a.m2, whole.m2, 1e-10, 'm2');
  close(a.m3, whole.m3, 1e-9, 'm3');
  close(a.m4, whole.m4, 1e-10, 'm4');
  // Merging into an empty accumulator copies.
  const e = new Moments();
  e.mergeFrom(whole);
  assert.deepEqual({ ...e }, { ...whole });
});

test('an empty tensor gives a result full of nulls', async () => {
  for (const shape of [[0], [0, 5], [3, 0]]) {
    const s = await computeTensorStats(() => chunked(new Float32Array(0), () => 1), shape);
    assert.equal(s.count, 0);
    assert.equal(s.finiteCount, 0);
    assert.equal(s.mean, null);
    assert.equal(s.zeroFraction, null);
    assert.equal(s.histogram, null);
    assert.equal(s.channels, null);
    assert.deepEqual(s.quantization, []);
  }
});

test('an all-NaN tensor is reported, not a crash', async () => {
  const data = new Float32Array(12).fill(NaN);
  data[3] = -Infinity;
  const s = await computeTensorStats(() => chunked(data, () => 5), [3, 4]);
  assert.equal(s.count, 12);
  assert.equal(s.finiteCount, 0);
  assert.equal(s.nanFraction, 11 / 12);
  assert.equal(s.infFraction, 1 / 12);
  assert.equal(s.min, null);
  assert.equal(s.std, null);
  assert.equal(s.histogram, null);
  assert.equal(s.logHistogram, null);
  assert.deepEqual(s.quantization, []);
  assert.equal(s.channels?.output.max, 0);
  assert.doesNotThrow(() => JSON.stringify(s));
});

test('round half to even, as QuantizeLinear', () => {
  const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [-0.5, -0], [-1.5, -2], [-2.5, -2], [3.4999999999999996, 3], [126.5, 126], [127.5, 128], [-7.5, -8], [2 ** 53 + 2, 2 ** 53 + 2]];
  // === treats -0 and 0 alike: the sign of a zero never changes a quantized value.
  for (const [x, want] of cases) assert.ok(roundHalfToEven(x) === want, `${x} rounds to ${roundHalfToEven(x)}, not ${want}`);
  // Ties in the kernel: x = [0.5, 1.5, 2.5, 127] with scale 1 quantize to [0, 2, 2, 127].
  const p = symmetricParams(127, 8);
  assert.deepEqual([0.5, 1.5, 2.5, 127].map((x) => fakeQuantize(x, p)), [0, 2, 2, 127]);
  const a = asymmetricParams(-1, 2, 4);
  assert.equal(a.scale, 0.2);
  assert.equal(a.zeroPoint, 5);
});

test('the per-tensor kernel rounds ties to even', async () => {
  const data = new Float64Array([0.5, 1.5, 2.5, 127]);
  const s = await computeTensorStats(() => chunked(data, () => 4), [4]);
  const sig = 0.25 + 2.25 + 6.25 + 127 * 127;
  close(s.quantization[0].relativeError, Math.sqrt(0.75 / sig), 1e-15, 'relative error');
});

/** Brute-force error of every scheme through the scalar helpers, one value at a time. */
function referenceErrors(w: Float64Array, layout: MatrixLayout, group: number): number[] {
  const { rows, cols, outAxis } = layout;
  const nOut = outAxis === 0 ? rows : cols;
  const nIn = outAxis === 0 ? cols : rows;
  const at = (o: number, i: number): number => (outAxis === 0 ? w[o * cols + i] : w[i * cols + o]);
  let sig = 0;
  let absmax = 0;
  for (const x of w) {
    sig += x * x;
    absmax = Math.max(absmax, Math.abs(x));
  }
  const err = [0, 0, 0, 0, 0];
  const pt = symmetricParams(absmax, 8);
  for (const x of w) err[0] += (fakeQuantize(x, pt) - x) ** 2;
  for (let o = 0; o < nOut; o++) {
    let am = 0;
    for (let i = 0; i < nIn; i++) am = Math.max(am, Math.abs(at(o, i)));
    const p8 = symmetricParams(am, 8);
    const p4 = symmetricParams(am, 4);
    for (let i = 0; i < nIn; i++) {
      err[1] += (fakeQuantize(at(o, i), p8) - at(o, i)) ** 2;
      err[2] += (fakeQuantize(at(o, i), p4) - at(o, i)) ** 2;
    }
    for (let g = 0; g < nIn; g += group) {
      let lo = 0;
      let hi = 0;
      for (let i = g; i < Math.min(nIn, g + group); i++) {
        lo = Math.min(lo, at(o, i));
        hi = Math.max(hi, at(o, i));
      }
      const ps = symmetricParams(Math.max(-lo, hi), 4);
      const pa = asymmetricParams(lo, hi, 4);
      for (let i = g; i < Math.min(nIn, g + group); i++) {
        err[3] += (fakeQuantize(at(o, i), ps) - at(o, i)) ** 2;
        err[4] += (fakeQuantize(at(o, i), pa) - at(o, i)) ** 2;
      }
    }
  }
  return err.map((e) => Math.sqrt(e / sig));
}

test('quantization kernels agree with the scalar QuantizeLinear helpers, both layouts', async () => {
  const r = rng(5);
  for (const [rows, cols, outAxis, group] of [[7, 300, 0, 128], [300, 7, 1, 128], [13, 50, 0, 5], [50, 13, 1, 16], [1, 1, 0, 128]] as const) {
    const w = new Float64Array(rows * cols);
    for (let i = 0; i < w.length; i++) w[i] = normal(r) * (i % 11 === 0 ? 8 : 1) + 0.3;
    const layout: MatrixLayout = { rows, cols, outAxis };
    const want = referenceErrors(w, layout, group);
    const rs = rng(rows);
    const s = await computeTensorStats(() => chunked(w, () => 1 + Math.floor(rs() * 200)), [rows, cols], { layout, groupSize: group });
    assert.deepEqual(s.quantization.map((q) => q.scheme), ['int8-per-tensor', 'int8-per-channel', 'int4-per-channel', 'int4-group-sym', 'int4-group-asym']);
    s.quantization.forEach((q, i) => close(q.relativeError, want[i], 1e-12, `${rows}×${cols} ${q.scheme}`));
  }
});

test('values on exact rounding ties give the error of the division-based reference, in every scheme', async () => {
  // Each output channel holds its absmax A and values (k + ½)·A/7 and (k + ½)·A/127: exact ties
  // for x / scale, where the kernels' multiply by 1/scale can round the other way (about one
  // time in ten). Both neighbours are ½·scale away, so the error must not change.
  const r = rng(21);
  for (const outAxis of [0, 1] as const) {
    const nOut = 40;
    const nIn = 300;
    const w = new Float64Array(nOut * nIn);
    for (let o = 0; o < nOut; o++) {
      const a = 0.1 + r() * 3;
      for (let i = 0; i < nIn; i++) {
        const k = Math.floor(r() * 14) - 7;
        const step = i % 2 === 0 ? a / 7 : a / 127;
        const v = i === 0 ? a : Math.max(-a, Math.min(a, (k + 0.5) * step * (i % 2 === 0 ? 1 : 9)));
        if (outAxis === 0) w[o * nIn + i] = v;
        else w[i * nOut + o] = v;
      }
    }
    const layout: MatrixLayout = outAxis === 0 ? { rows: nOut, cols: nIn, outAxis } : { rows: nIn, cols: nOut, outAxis };
    const want = referenceErrors(w, layout, 128);
    const s = await computeTensorStats(() => chunked(w, () => 777), [layout.rows, layout.cols], { layout });
    s.quantization.forEach((q, i) => close(q.relativeError, want[i], 1e-12, `outAxis ${outAxis} ${q.scheme}`));
  }
});

/** numpy's histogram of log10|x| over the nonzero values, computed with Math.log10 per element. */
function naiveLogHistogram(data: Float64Array, bins: number): { counts: number[]; lo: number; hi: number } {
  let lo = Infinity;
  let hi = 0;
  for (const x of data) {
    if (x === 0) continue;
    lo = Math.min(lo, Math.abs(x));
    hi = Math.max(hi, Math.abs(x));
  }
  const e = linspaceEdges(Math.log10(lo), Math.log10(hi), bins);
  const counts = new Array<number>(bins).fill(0);
  const norm = bins / (e[bins] - e[0]);
  for (const x of data) {
    if (x === 0) continue;
    const v = Math.log10(Math.abs(x));
    let k = Math.min(Math.trunc((v - e[0]) * norm), bins - 1);
    if (v < e[k]) k--;
    if (k !== bins - 1 && v >= e[k + 1]) k++;
    counts[k]++;
  }
  return { counts, lo, hi };
}

test('log histogram thresholds bin exactly like Math.log10', () => {
  const r = rng(9);
  const sign = (): number => (r() < 0.5 ? -1 : 1);
  const sets: Record<string, Float64Array> = {
    wide: Float64Array.from({ length: 50000 }, (_, i) => (i % 1000 === 0 ? 0 : sign() * 10 ** (r() * 40 - 30))),
    subnormal: Float64Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? 0 : sign() * 5e-324 * Math.floor(1 + r() * 1e6))),
    constantMagnitude: Float64Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 0 : sign() * 0.37)),
    narrow: Float64Array.from({ length: 5000 }, () => sign() * (1 + r() * 1e-4)),
    huge: Float64Array.from({ length: 5000 }, () => sign() * 10 ** (r() * 616 - 308)),
  };
  sets.wide[1] = 5e-324;
  for (const [name, data] of Object.entries(sets)) {
    const want = naiveLogHistogram(data, 256);
    const h = new LogHistogram(want.lo, want.hi, 256);
    h.push(data, data.length);
    assert.deepEqual(Array.from(h.counts), want.counts, name);
  }
});

test('cancellation stops between chunks; progress rises to 1', async () => {
  const data = new Float32Array(10000).fill(1);
  let calls = 0;
  await assert.rejects(
    computeTensorStats(() => chunked(data, () => 100), [10000], { isCancelled: () => ++calls > 3 }),
    (e: unknown) => e instanceof StatsCancelledError,
  );
  const ac = new AbortController();
  const done = computeTensorStats(() => chunked(data, () => 100), [10000], {
    signal: ac.signal,
    onProgress: (f) => {
      if (f > 0.2) ac.abort(new Error('stop'));
    },
  });
  await assert.rejects(done, /stop/);
  const seen: number[] = [];
  await computeTensorStats(() => chunked(data, () => 999), [100, 100], { onProgress: (f) => seen.push(f) });
  assert.ok(seen.every((f, i) => i === 0 || f >= seen[i - 1]));
  assert.equal(seen[seen.length - 1], 1);
});

test('a source that disagrees with the shape, or a bad layout, is a clear error', async () => {
  const data = new Float32Array(10);
  await assert.rejects(computeTensorStats(() => chunked(data, () => 3), [11]), /ended after 10 of the 11/);
  await assert.rejects(computeTensorStats(() => chunked(data, () => 3), [9]), /more than the 9/);
  await assert.rejects(computeTensorStats(() => chunked(data, () => 3), [2, 5], { layout: { rows: 3, cols: 5, outAxis: 0 } }), /does not cover/);
  await assert.rejects(computeTensorStats(() => chunked(data, () => 3), [-1]), /invalid tensor shape/);
});
