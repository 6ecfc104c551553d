/**
 * Channel permutation search for 2:4 sparsity (Pool & Yu, NeurIPS 2021) on a seeded random
 * 64×128 Gaussian matrix and on real weight matrices of the npm models (PP-OCRv4 recognizer
 * MatMuls, Silero VAD v5 LSTM), against a straightforward numpy channel-swap search run in the
 * same run (bench/permute_numpy.py on Debian's python3-numpy). Prints, per matrix, the
 * efficacy (kept − default N:M kept)/(unstructured kept − default N:M kept) and the time of:
 *   - ours, default: stripe-group optimization (8-column stripe groups) with bounded regressions
 *     and escapes by channel swaps;
 *   - ours, one local search: stripe-group optimization to a local optimum, no escapes;
 *   - ours, effort-capped: two sweeps over the stripe groups, no escapes;
 *   - ours, channel swaps: the same algorithm as the numpy reference;
 *   - numpy channel swaps;
 * and the time ratios ours / numpy. Times are process CPU times (user + system), which a busy
 * shared machine disturbs far less than wall time, the best of `repeat` runs (3 of ours and 2 of
 * numpy for the random matrix, 1 for the model weights), after a JIT warm-up; the cold first run
 * is printed too. A benchmark, not a test: it prints, it does not assert.
 * Run it from the repository with (add --all for every recognizer MatMul and both VAD branches):
 *   npx esbuild bench/permute.bench.ts --bundle --platform=node --outfile=OUT/permute.bench.js && node OUT/permute.bench.js
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../src/core/formats/registry';
import { FileAccessor } from '../src/core/io/FileAccessor';
import { readTensor } from '../src/core/tensor/TensorReader';
import { channelPermutation, type ChannelPermutationOptions, type ChannelPermutationResult } from '../src/core/prune';
import { peerProblem, ratio, repoRoot, runPython, seededNormal, withTempDir } from './support/benchSupport';

const N = 2, M = 4;

/** The searches compared: default, one local search, two sweeps, channel swaps. */
const CONFIGS: readonly ChannelPermutationOptions[] = [
  {},
  { escapeAttempts: 0 },
  { maxSweeps: 2, escapeAttempts: 0, maxRegressions: 0 },
  { strategy: 'channelSwaps', escapeAttempts: 0 },
];

interface BenchMatrix {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** B [in, out] of a MatMul as W [out, in], the layout the kernels take (N:M runs along `in`). */
function transposed(name: string, data: Float32Array, inDim: number, outDim: number): BenchMatrix {
  const out = new Float32Array(data.length);
  for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) out[o * inDim + i] = data[i * outDim + o];
  return { name, rows: outDim, cols: inDim, data: out };
}

async function modelMatrices(all: boolean): Promise<BenchMatrix[]> {
  const root = repoRoot();
  const out: BenchMatrix[] = [];
  const ocrPath = join(root, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
  const ocr = await openCheckpoint(ocrPath);
  // Weights that are the second input of a MatMul are B [in, out].
  const matmulB = new Set((ocr.graph?.nodes ?? []).filter((n) => n.opType === 'MatMul').map((n) => n.inputs[1]));
  for (const t of ocr.tensors) {
    if (t.shape.length !== 2 || t.dtype !== 'F32' || !matmulB.has(t.name)) continue;
    const [inDim, outDim] = t.shape;
    if (inDim % M !== 0 || outDim > 1024) continue;
    if (!all && !/^linear_(77|78|79|80)\./.test(t.name)) continue;
    out.push(transposed(`ocr ${t.name}`, await readTensor(t), inDim, outDim));
  }
  await closeFile(ocrPath);
  const vadPath = join(root, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
  const vad = await openCheckpoint(vadPath);
  for (const t of vad.tensors) {
    // LSTM weights are stored [4·hidden, in]: already [out, in].
    if (t.shape.length !== 2 || t.dtype !== 'F32' || t.shape[1] % M !== 0) continue;
    if (!all && !t.name.includes('then_branch')) continue;
    out.push({ name: `vad ${t.name.replace(/^.*Inline_0__/, '').replace(/^If_0\/(\w+)_branch.*?__/, '')} (${t.name.includes('then') ? 'then' : 'else'})`, rows: t.shape[0], cols: t.shape[1], data: await readTensor(t) });
  }
  await closeFile(vadPath);
  return out;
}

/** Closes the shared file handle the readers kept open for `path`. */
async function closeFile(path: string): Promise<void> {
  await (await FileAccessor.open(path)).close();
}

/** The search's result and its CPU time in ms, best of `repeat` runs. */
function timed(W: BenchMatrix, options: ChannelPermutationOptions, repeat: number): { result: ChannelPermutationResult; ms: number } {
  let best: { result: ChannelPermutationResult; ms: number } | undefined;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.cpuUsage();
    const result = channelPermutation(W, N, M, options);
    const t = process.cpuUsage(t0);
    const ms = (t.user + t.system) / 1000;
    if (best === undefined || ms < best.ms) best = { result, ms };
  }
  if (best === undefined) throw new RangeError('repeat must be ≥ 1');
  return best;
}

async function main(): Promise<void> {
  const all = process.argv.includes('--all');
  const g = seededNormal(1);
  const matrices: BenchMatrix[] = [{ name: 'random gaussian (seed 1)', rows: 64, cols: 128, data: Float32Array.from({ length: 64 * 128 }, g) }];
  matrices.push(...(await modelMatrices(all)));

  // The first searches run in V8's lower tiers: time one cold run, then warm every configuration
  // up on the random matrix (a worker that prunes a model is warm after its first layer).
  const cold = timed(matrices[0], {}, 1);
  for (const options of CONFIGS) timed(matrices[0], options, 2);

  withTempDir('quantscope-permute-bench-', (dir) => {
    const specs = matrices.map((m, i) => {
      const file = `m${i}`;
      writeFileSync(join(dir, `${file}.f32`), new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      return { name: file, rows: m.rows, cols: m.cols, repeat: i === 0 ? 3 : 1 };
    });
    writeFileSync(join(dir, 'matrices.json'), JSON.stringify(specs));
    // The reference runs while nothing else of ours does; its own BLAS threading stays off the
    // table because sort and sum of small arrays never reach BLAS.
    const py = runPython('permute_numpy.py', [dir, String(N), String(M)]);
    const reference = new Map<string, { ms: number; efficacy: number }>();
    if (py.status !== 0) console.log(`numpy reference ${peerProblem(py)}`);
    else for (const line of py.stdout.trim().split('\n')) {
      const r = JSON.parse(line) as { name: string; ms: number; efficacy: number };
      reference.set(r.name, r);
    }

    console.log(`channel permutation search for ${N}:${M}; efficacy = (kept − default ${N}:${M} kept)/(unstructured kept − default ${N}:${M} kept)`);
    console.log('CPU ms                             shape    | ours default     | ours 1 local s.  | ours 2 sweeps    | ours chan. swaps | numpy chan. swaps | ours/numpy time');
    console.log('                                            | effic.  ms       | effic.  ms       | effic.  ms       | effic.  ms       | effic.  ms        | default 1 local 2 sweeps swaps');
    const cell = (e: number, ms: number): string => `${(100 * e).toFixed(1).padStart(5)}% ${ms.toFixed(1).padStart(7)}   `;
    for (const [i, W] of matrices.entries()) {
      const repeat = specs[i].repeat;
      const [full, local, fast, swaps] = CONFIGS.map((options) => timed(W, options, repeat));
      const ref = reference.get(specs[i].name);
      const vsNumpy = (ms: number): string => (ref ? `1/${ratio(ref.ms, ms, 1)}` : 'n/a').padEnd(8);
      const ours = (x: { result: ChannelPermutationResult; ms: number }): string => cell(x.result.efficacy, x.ms);
      console.log(
        `${W.name.slice(0, 34).padEnd(34)} ${`${W.rows}×${W.cols}`.padEnd(8)} | ${ours(full)}| ${ours(local)}| ${ours(fast)}| ${ours(swaps)}| ` +
          `${ref ? `${cell(ref.efficacy, ref.ms)} ` : 'n/a               '}| ${vsNumpy(full.ms)}${vsNumpy(local.ms)}${vsNumpy(fast.ms)}${vsNumpy(swaps.ms)}`,
      );
    }
    console.log(`first (cold JIT) run of the default search on the random matrix: ${cold.ms.toFixed(1)} ms CPU`);
    console.log('Pool & Yu report 35.5% efficacy for 64×128 with 8-column stripe groups; the goal is ≥ 35.5% in ≤ 1/20 of the numpy time.');
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
