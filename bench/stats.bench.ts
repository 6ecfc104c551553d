/**
 * Weight statistics on one large tensor, against numpy in the same run. Writes ≥ 512 MiB
 * safetensors files (F32, BF16 and F16) to a temporary folder, reads each one through
 * `openCheckpoint` + `readTensorChunks` and runs `computeTensorStats` (both passes), then runs
 * bench/stats_numpy.py (np.memmap, the same statistics) on the same file. Prints GB/s of tensor
 * bytes for both, the ratio, and where our time goes (decoding alone versus the two passes).
 * A benchmark, not a test: it prints, it does not assert. Run it from the repository with:
 *   npx esbuild bench/stats.bench.ts --bundle --platform=node --outfile=OUT/stats.bench.js && node OUT/stats.bench.js
 * Environment: STATS_BENCH_MB (file size, default 512), STATS_BENCH_DTYPES (default F32,BF16,F16),
 * PYTHON (a Python with numpy; otherwise python3 on PATH, then /usr/bin/python3, whichever imports numpy).
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../src/core/formats/registry';
import { computeTensorStats } from '../src/core/stats/computeTensorStats';
import type { TensorStats } from '../src/core/stats/TensorStats';
import { readTensorChunks } from '../src/core/tensor/TensorReader';
import { peerProblem, ratio, runPython, seededRandom, withTempDirAsync } from './support/benchSupport';

type BenchDType = 'F32' | 'BF16' | 'F16';

const MB = Number(process.env.STATS_BENCH_MB ?? 512);
const DTYPES = (process.env.STATS_BENCH_DTYPES ?? 'F32,BF16,F16').split(',') as BenchDType[];
const COLS = 8192;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half, round to nearest even (bench-local: only to write the F16 file). */
function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 112;
  let m = x & 0x7fffff;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m |= 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/**
 * Writes a safetensors file with one [rows, COLS] tensor of roughly normal values (σ 0.02) with a
 * few outlier input columns, as real LLM weights have.
 */
function writeSafetensors(path: string, dtype: BenchDType): { rows: number; bytes: number } {
  const size = dtype === 'F32' ? 4 : 2;
  const rows = Math.ceil((MB * 1024 * 1024) / size / COLS);
  const bytes = rows * COLS * size;
  let header = JSON.stringify({ weight: { dtype, shape: [rows, COLS], data_offsets: [0, bytes] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const fd = openSync(path, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeSync(fd, len);
    writeSync(fd, Buffer.from(header, 'latin1'));
    const uniform = seededRandom(0x9e3779b9);
    const rowsPerChunk = 256;
    const vals = new Float32Array(rowsPerChunk * COLS);
    const out = new Uint16Array(rowsPerChunk * COLS);
    for (let r = 0; r < rows; r += rowsPerChunk) {
      const nr = Math.min(rowsPerChunk, rows - r);
      for (let i = 0; i < nr * COLS; i++) {
        // Irwin–Hall(4): cheap, bell-shaped, bounded.
        const acc = uniform() + uniform() + uniform() + uniform();
        const col = i % COLS;
        vals[i] = (acc - 2) * 0.035 * (col % 1021 === 7 ? 8 : 1);
      }
      let buf: Uint8Array;
      if (dtype === 'F32') {
        buf = new Uint8Array(vals.buffer, 0, nr * COLS * 4);
      } else {
        for (let i = 0; i < nr * COLS; i++) {
          if (dtype === 'BF16') {
            f32[0] = vals[i];
            out[i] = u32[0] >>> 16;
          } else {
            out[i] = toHalf(vals[i]);
          }
        }
        buf = new Uint8Array(out.buffer, 0, nr * COLS * 2);
      }
      writeSync(fd, buf);
    }
  } finally {
    closeSync(fd);
  }
  return { rows, bytes };
}

interface NumpyResult {
  bytes: number;
  seconds: number;
  pass1Seconds: number;
  pass2Seconds: number;
  mean: number;
  std: number;
  kurtosis: number;
  absmax: number;
  outlierFraction3Sigma: number;
  histogramPeak: number;
  logHistogramPeak: number;
  sqnrDb: Record<string, number>;
}

/** The numpy peer's figures, or why there are none (missing numpy, or a failed run). */
function runNumpy(path: string): NumpyResult | string {
  const r = runPython('stats_numpy.py', [path]);
  if (r.status !== 0) return peerProblem(r);
  try {
    return JSON.parse(r.stdout) as NumpyResult;
  } catch {
    return `failed: unreadable output ${r.stdout.slice(0, 80)}`;
  }
}

async function main(): Promise<void> {
  await withTempDirAsync('quantscope-stats-bench-', async (dir) => {
    console.log(`weight statistics, one [rows, ${COLS}] tensor of ${MB} MiB per dtype; GB/s of stored tensor bytes (1 GB = 1e9 B)`);
    for (const dtype of DTYPES) {
      const path = join(dir, `weight-${dtype}.safetensors`);
      const { bytes } = writeSafetensors(path, dtype);
      const cp = await openCheckpoint(path);
      const t = cp.tensors[0];
      const source = (): AsyncIterable<Float32Array> => readTensorChunks(t, { rowMajor: true });

      // Warm the page cache and measure reading + decoding alone.
      let t0 = performance.now();
      let n = 0;
      for await (const c of source()) n += c.length;
      const decodeMs = performance.now() - t0;
      if (n !== t.elements) throw new Error('short read');

      let p1End = 0;
      t0 = performance.now();
      const stats: TensorStats = await computeTensorStats(source, t.shape, {
        onProgress: (f) => {
          if (f >= 0.5 && p1End === 0) p1End = performance.now();
        },
      });
      const oursMs = performance.now() - t0;
      const pass1Ms = p1End - t0;

      const np = runNumpy(path);
      const gbs = (ms: number): string => (bytes / 1e9 / (ms / 1000)).toFixed(3);
      console.log(`\n${dtype}: ${t.shape.join('×')} (${(bytes / 2 ** 20).toFixed(0)} MiB)`);
      console.log(`  ours:  ${oursMs.toFixed(0)} ms  ${gbs(oursMs)} GB/s  (pass 1 ${pass1Ms.toFixed(0)} ms, pass 2 ${(oursMs - pass1Ms).toFixed(0)} ms; reading+decoding alone ${decodeMs.toFixed(0)} ms per pass)`);
      const hist = stats.histogram?.counts ?? [];
      const logHist = stats.logHistogram?.counts ?? [];
      if (typeof np === 'string') {
        console.log(`  numpy: ${np}`);
        console.log(`  ours:  mean ${stats.mean}, std ${stats.std}, kurtosis ${stats.kurtosis}, histogram peak ${Math.max(...hist)}, 3σ ${stats.outlierFraction3Sigma}`);
      } else {
        console.log(`  numpy: ${(np.seconds * 1000).toFixed(0)} ms  ${gbs(np.seconds * 1000)} GB/s  (pass 1 ${(np.pass1Seconds * 1000).toFixed(0)} ms, pass 2 ${(np.pass2Seconds * 1000).toFixed(0)} ms)`);
        console.log(`  ratio: ${ratio(np.seconds * 1000, oursMs)}× numpy (goal ${dtype === 'F32' ? 3 : 5}×)`);
        const sq = Object.fromEntries(stats.quantization.map((q) => [q.scheme, q.sqnrDb ?? Infinity]));
        console.log(`  agree: mean ${stats.mean} / ${np.mean}, std ${stats.std} / ${np.std}, kurtosis ${stats.kurtosis} / ${np.kurtosis}`);
        console.log(`         histogram peak ${Math.max(...hist)} / ${np.histogramPeak}, log peak ${Math.max(...logHist)} / ${np.logHistogramPeak}, 3σ ${stats.outlierFraction3Sigma} / ${np.outlierFraction3Sigma}`);
        console.log(`         SQNR dB ${Object.keys(np.sqnrDb).map((k) => `${k} ${sq[k]?.toFixed(4)} / ${np.sqnrDb[k].toFixed(4)}`).join(', ')}`);
      }
      rmSync(path, { force: true });
    }
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
