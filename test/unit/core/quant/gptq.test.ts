import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matmulTransB, quadraticTraceOfDifference, type MatrixLike } from '../../../../src/core/linalg';
import { dequantize, gptq, isCancelledError, quantizeRtn, type QuantBits, type QuantScheme } from '../../../../src/core/quant';
import { syntheticLayer } from '../../support/syntheticLayer';

const OUT = 48, IN = 256, N = 1024;
const layer = syntheticLayer(OUT, IN, N, 11);

function layerError(W: MatrixLike, Q: Float32Array, H: MatrixLike): number {
  return quadraticTraceOfDifference(W, { rows: W.rows, cols: W.cols, data: Q }, H);
}

const schemes: Array<{ name: string; scheme: QuantScheme }> = [];
for (const bits of [4, 3] as QuantBits[]) {
  schemes.push({ name: `int${bits} per-channel`, scheme: { bits, symmetric: true, granularity: 'channel' } });
  schemes.push({ name: `int${bits} g128`, scheme: { bits, symmetric: true, granularity: 'group', groupSize: 128 } });
  schemes.push({ name: `uint${bits} g128`, scheme: { bits, symmetric: false, granularity: 'group', groupSize: 128 } });
}

for (const { name, scheme } of schemes) {
  for (const actOrder of [false, true]) {
    test(`GPTQ beats RTN on tr(ΔW H ΔWᵀ): ${name}${actOrder ? ', act-order' : ''}`, () => {
      const rtn = layerError(layer.W, dequantize(quantizeRtn(layer.W, scheme)), layer.H);
      const result = gptq(layer.W, layer.H, { scheme, actOrder });
      const g = layerError(layer.W, dequantize(result), layer.H);
      assert.ok(g < rtn, `GPTQ ${g} vs RTN ${rtn}`);
      // Correlated inputs leave a lot to recover: demand a clear margin, not a rounding accident.
      assert.ok(g < 0.8 * rtn, `ratio ${g / rtn}`);
      const { qmin, qmax } = result.layout;
      assert.ok(result.codes.every((c) => c >= qmin && c <= qmax));
      assert.ok(result.scales.every((s) => Number.isFinite(s) && s >= 0));
    });
  }
}

test('the measured ‖X·ΔWᵀ‖²_F equals tr(ΔW H ΔWᵀ) to 1e-9 relative', () => {
  const result = gptq(layer.W, layer.H, { scheme: { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 }, actOrder: true });
  const Q = dequantize(result);
  const dW = Float64Array.from(layer.W.data, (w, i) => w - Q[i]);
  const Y = matmulTransB(layer.X, { rows: OUT, cols: IN, data: dW });
  let measured = 0;
  for (const v of Y.data) measured += v * v;
  const formula = layerError(layer.W, Q, layer.H);
  assert.ok(Math.abs(measured - formula) <= 1e-9 * measured, `${measured} vs ${formula}`);
});

test('the sweep objective equals tr(ΔW (H + λI) ΔWᵀ), the identity GPTQ rests on', () => {
  for (const actOrder of [false, true]) {
    const result = gptq(layer.W, layer.H, { scheme: { bits: 3, symmetric: false, granularity: 'group', groupSize: 64 }, actOrder });
    const Hd = Float64Array.from(layer.H.data);
    for (let i = 0; i < IN; i++) Hd[i * IN + i] += result.damping;
    const t = layerError(layer.W, dequantize(result), { rows: IN, cols: IN, data: Hd });
    assert.ok(Math.abs(result.loss - t) <= 1e-8 * t, `${result.loss} vs ${t}`);
    assert.ok(Math.abs(result.damping - 0.01 * (layer.H.data.reduce((s, _, i) => (i % (IN + 1) === 0 ? s + layer.H.data[i] : s), 0) / IN)) < 1e-9 * result.damping);
  }
});

test('act-order output is in the original column order', () => {
  // With a diagonal H there is no error feedback, so GPTQ must reproduce RTN exactly, column for
  // column, whatever order it visited them in.
  const H = new Float64Array(IN * IN);
  for (let i = 0; i < IN; i++) H[i * IN + i] = 1 + ((i * 7919) % 97);
  const scheme: QuantScheme = { bits: 4, symmetric: false, granularity: 'group', groupSize: 32 };
  const result = gptq(layer.W, { rows: IN, cols: IN, data: H }, { scheme, actOrder: true });
  assert.notDeepEqual(Array.from(result.order), Array.from({ length: IN }, (_, i) => i));
  let largest = 0;
  for (let i = 1; i < IN; i++) if (H[i * IN + i] > H[largest * IN + largest]) largest = i;
  assert.equal(result.order[0], largest);
  for (let k = 1; k < IN; k++) assert.ok(H[result.order[k - 1] * (IN + 1)] >= H[result.order[k] * (IN + 1)]);
  const rtn = quantizeRtn(layer.W, scheme);
  assert.deepEqual(result.codes, rtn.codes);
  assert.deepEqual(result.scales, rtn.scales);
  assert.deepEqual(result.zeroPoints, rtn.zeroPoints);
});

test('dead inputs: diag H = 0 gives zero weights there, finite results, still better than RTN', () => {
  const dead = [0, 17, 100, 255];
  const l = syntheticLayer(16, IN, 512, 5, dead);
  for (const actOrder of [false, true]) {
    const scheme: QuantScheme = { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 };
    const result = gptq(l.W, l.H, { scheme, actOrder });
    assert.deepEqual(result.deadInputs, dead);
    const Q = dequantize(result);
    assert.ok(Q.every((v) => Number.isFinite(v)));
    for (let r = 0; r < 16; r++) for (const c of dead) assert.equal(Q[r * IN + c], 0);
    assert.ok(layerError(l.W, Q, l.H) < layerError(l.W, dequantize(quantizeRtn(l.W, scheme)), l.H));
  }
});

test('rank-deficient H (fewer rows than inputs) is handled by the damping', () => {
  const l = syntheticLayer(8, 64, 16, 3);
  const scheme: QuantScheme = { bits: 4, symmetric: true, granularity: 'channel' };
  const result = gptq(l.W, l.H, { scheme, percdamp: 0 });
  assert.ok(result.damping > 0);
  assert.ok(dequantize(result).every((v) => Number.isFinite(v)));
});

test('groups not dividing in, block sizes not aligned with groups, tensor granularity', () => {
  const l = syntheticLayer(6, 100, 300, 8);
  for (const [scheme, blockSize] of [
    [{ bits: 4, symmetric: true, granularity: 'group', groupSize: 32 }, 50],
    [{ bits: 4, symmetric: false, granularity: 'group', groupSize: 48 }, 128],
    [{ bits: 8, symmetric: true, granularity: 'tensor' }, 16],
    [{ bits: 3, symmetric: true, granularity: 'group', groupSize: 64 }, 20],
  ] as Array<[QuantScheme, number]>) {
    const result = gptq(l.W, l.H, { scheme, blockSize });
    const g = layerError(l.W, dequantize(result), l.H);
    const r = layerError(l.W, dequantize(quantizeRtn(l.W, scheme)), l.H);
    assert.ok(g < r, `${JSON.stringify(scheme)} B=${blockSize}: ${g} vs ${r}`);
    // The lazy batch is an exact reordering: any block size gives the same codes up to rounding.
    const reference = gptq(l.W, l.H, { scheme, blockSize: 1 });
    let mismatched = 0;
    for (let i = 0; i < result.codes.length; i++) if (result.codes[i] !== reference.codes[i]) mismatched++;
    assert.ok(mismatched <= 2, `${mismatched} codes differ between block sizes`);
  }
});

test('progress per block, cancellation, and shape errors', () => {
  const seen: number[] = [];
  gptq(layer.W, layer.H, { scheme: { bits: 4, symmetric: true, granularity: 'channel' }, onProgress: (done, total) => { seen.push(done); assert.equal(total, IN); } });
  assert.deepEqual(seen, [128, 256]);
  // Cancelled in the factorization (polled every 32 rows there) and in the sweep (per block).
  let calls = 0;
  assert.throws(
    () => gptq(layer.W, layer.H, { scheme: { bits: 4, symmetric: true, granularity: 'channel' }, isCancelled: () => ++calls > 1 }),
    (e: unknown) => isCancelledError(e),
  );
  assert.equal(calls, 2);
  let blocks = 0;
  assert.throws(
    () => gptq(layer.W, layer.H, {
      scheme: { bits: 4, symmetric: true, granularity: 'channel' },
      onProgress: () => blocks++,
      isCancelled: () => blocks > 0,
    }),
    (e: unknown) => isCancelledError(e),
  );
  assert.equal(blocks, 1);
  assert.throws(() => gptq(layer.W, { rows: 3, cols: 3, data: new Float64Array(9) }, { scheme: { bits: 4, symmetric: true, granularity: 'channel' } }), RangeError);
});
