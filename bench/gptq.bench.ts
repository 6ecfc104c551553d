/**
 * GPTQ on a 768×768 layer with correlated synthetic inputs, against RTN (the time GPTQ's error
 * feedback costs) and against the same algorithm in numpy with its BLAS, in the same run (the
 * reference implementation speed). Prints times, ratios and the layer error tr(ΔW H ΔWᵀ) of each;
 * also the Gram matrix, the Hinv factorization and the sensitivity table on the same layer.
 * A benchmark, not a test: it prints, it does not assert. Run it with:
 *   npx esbuild bench/gptq.bench.ts --bundle --platform=node --outfile=OUT/gptq.bench.js && node OUT/gptq.bench.js
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GramAccumulator, quadraticTraceOfDifference, upperCholeskyOfInverse, type MatrixLike } from '../src/core/linalg';
import { dequantize, gptq, layerSensitivity, quantizeRtn, type QuantScheme } from '../src/core/quant';
import { best, peerProblem, ratio, runPython, seededNormal, time, withTempDir } from './support/benchSupport';

const OUT = 768, IN = 768, ROWS = 2048;

const rand = seededNormal(1);
const X = new Float32Array(ROWS * IN);
for (let r = 0; r < ROWS; r++) {
  const f = [rand(), rand(), rand(), rand()];
  for (let c = 0; c < IN; c++) {
    let v = rand();
    if (c % 5 === 0) v = 0.3 * v + 1.5 * f[c % 4];
    if (c % 37 === 3) v *= 12;
    X[r * IN + c] = v;
  }
}
const W: MatrixLike = { rows: OUT, cols: IN, data: Float32Array.from({ length: OUT * IN }, () => 0.05 * rand()) };

const gram = time(() => {
  const acc = new GramAccumulator(IN);
  for (let r0 = 0; r0 < ROWS; r0 += 256) acc.addRows(X.subarray(r0 * IN, Math.min(r0 + 256, ROWS) * IN));
  return acc.matrix();
});
const H = gram.value;
console.log(`Gram XᵀX ${ROWS}×${IN}: ${gram.ms.toFixed(0)} ms`);
const hinv = time(() => {
  const Hd = Float64Array.from(H.data);
  for (let i = 0; i < IN; i++) Hd[i * IN + i] += 0.01 * H.data[i * IN + i];
  return upperCholeskyOfInverse({ rows: IN, cols: IN, data: Hd });
});
console.log(`Cholesky(H⁻¹)ᵀ ${IN}×${IN}: ${hinv.ms.toFixed(0)} ms`);

const sens = time(() => layerSensitivity(W, H));
console.log(`sensitivity table ${OUT}×${IN} (4 candidates + top eigenvalue, ${sens.value.eigenIterations} power iterations): ${sens.ms.toFixed(0)} ms`);
for (const c of sens.value.candidates) console.log(`  ${c.label.padEnd(24)} relative error ${(c.relativeError ?? NaN).toExponential(3)}`);

const schemes: Array<[string, QuantScheme]> = [
  ['int4 per-channel', { bits: 4, symmetric: true, granularity: 'channel' }],
  ['int4 g128', { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 }],
  ['uint4 g128', { bits: 4, symmetric: false, granularity: 'group', groupSize: 128 }],
  ['int3 per-channel', { bits: 3, symmetric: true, granularity: 'channel' }],
  ['int3 g128', { bits: 3, symmetric: true, granularity: 'group', groupSize: 128 }],
];
console.log('scheme               act-order  RTN ms  GPTQ ms  time ratio  error RTN      error GPTQ     GPTQ/RTN error');
for (const [name, scheme] of schemes) {
  for (const actOrder of [false, true]) {
    const rtn = best(3, () => quantizeRtn(W, scheme));
    const g = best(1, () => gptq(W, H, { scheme, actOrder }));
    const eR = quadraticTraceOfDifference(W, { rows: OUT, cols: IN, data: dequantize(rtn.value) }, H);
    const eG = quadraticTraceOfDifference(W, { rows: OUT, cols: IN, data: dequantize(g.value) }, H);
    console.log(
      `${name.padEnd(20)} ${String(actOrder).padEnd(10)} ${rtn.ms.toFixed(1).padStart(6)}  ${g.ms.toFixed(0).padStart(7)}  ${ratio(g.ms, rtn.ms, 0).padStart(9)}×  ` +
        `${eR.toExponential(4).padEnd(13)}  ${eG.toExponential(4).padEnd(13)}  ${(eG / eR).toFixed(3)}`,
    );
  }
}

// The numpy reference on the same W and H (per-channel and g128, 4 bits, no act-order).
withTempDir('quantscope-gptq-bench-', (dir) => {
  writeFileSync(join(dir, 'W.f32'), new Uint8Array(W.data.buffer, W.data.byteOffset, W.data.byteLength));
  writeFileSync(join(dir, 'H.f64'), new Uint8Array(H.data.buffer, H.data.byteOffset, H.data.byteLength));
  console.log('\nnumpy reference (same algorithm, BLAS lazy batch), int4 symmetric, no act-order:');
  for (const [name, scheme, group] of [
    ['per-channel', { bits: 4, symmetric: true, granularity: 'channel' }, 0],
    ['g128', { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 }, 128],
  ] as Array<[string, QuantScheme, number]>) {
    const r = runPython('gptq_numpy.py', [dir, String(OUT), String(IN), '4', String(group)]);
    if (r.status !== 0) {
      console.log(`  ${name}: numpy ${peerProblem(r)}`);
      continue;
    }
    const ref = JSON.parse(r.stdout) as { ms: number; error: number };
    const ours = best(2, () => gptq(W, H, { scheme }));
    const e = quadraticTraceOfDifference(W, { rows: OUT, cols: IN, data: dequantize(ours.value) }, H);
    console.log(`  ${name.padEnd(12)} numpy ${ref.ms.toFixed(0)} ms, ours ${ours.ms.toFixed(0)} ms, ours/numpy ${ratio(ours.ms, ref.ms)}×; error numpy ${ref.error.toExponential(4)}, ours ${e.toExponential(4)}`);
  }
});
