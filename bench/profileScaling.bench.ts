/**
 * How `profile` (weight statistics, calibration in ONNX Runtime and every layer's sensitivity)
 * grows with the model: Llama-shaped decoders of hidden 512, 1024 and 2048 (intermediate 2.75×,
 * one layer by default, vocabulary 1000; seeded weights), profiled by the profile job on
 * generated inputs (8 samples of 64 tokens: 512 calibration rows, fewer than most layers'
 * inputs). Prints each size's time (and the calibration's share, as the job reports it), and the
 * ratio per doubling of the hidden size; the reference is the previous size in the same run.
 * Goal: ≤ 4.5× per doubling (the weights grow 4×). A benchmark, not a test: it prints, it does not assert.
 *   npm run bench -- profileScaling [--layers=L] [--samples=S] [--seq=T] [--sizes=512,1024,2048]
 */
import { join } from 'node:path';
import { buildDecoder, readHfConfig } from '../src/core/decoder';
import { QUIET_JOB } from '../src/worker/jobs/JobContext';
import { profileModel } from '../src/worker/jobs/profileModel';
import { ratio, withTempDirAsync } from './support/benchSupport';
import { RandomDecoderSource } from './support/RandomDecoderSource';

/** The issue's goal: profile time per doubling of the hidden size. */
const GOAL = 4.5;

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

async function main(): Promise<void> {
  const layers = option('layers', 1);
  const samples = option('samples', 8);
  const seq = option('seq', 64);
  const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
  const sizes = sizesArg ? sizesArg.slice('--sizes='.length).split(',').map(Number) : [512, 1024, 2048];
  await withTempDirAsync('quantscope-bench-profile-', async (dir) => {
    let previous: number | undefined;
    const ratios: number[] = [];
    console.log(`profile of a decoder (${layers} layer${layers === 1 ? '' : 's'}, intermediate 2.75× hidden, vocabulary 1000), ${samples} generated samples of ${seq} tokens = ${samples * seq} calibration rows`);
    for (const hidden of sizes) {
      const config = readHfConfig({
        model_type: 'llama', hidden_size: hidden, intermediate_size: Math.round((hidden * 11) / 4 / 64) * 64, num_hidden_layers: layers,
        num_attention_heads: Math.max(1, hidden / 64), num_key_value_heads: Math.max(1, hidden / 256), vocab_size: 1000, max_position_embeddings: 4096,
        rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, hidden_act: 'silu',
      });
      const path = join(dir, `decoder-${hidden}.onnx`);
      await (await buildDecoder(new RandomDecoderSource(config))).save(path);
      const t0 = performance.now();
      const p = await profileModel({ path, samples, sequenceLength: seq }, QUIET_JOB);
      const s = (performance.now() - t0) / 1000;
      const ranked = p.layers.filter((l) => l.sensitivity).length;
      const r = previous === undefined ? undefined : s / previous;
      if (r !== undefined) ratios.push(r);
      console.log(`  hidden ${String(hidden).padStart(5)}: ${s.toFixed(2).padStart(7)} s (calibration ${p.calibration.seconds.toFixed(2)} s), ${ranked} layers with sensitivity${r === undefined ? '' : `, ${ratio(s, previous ?? s)}× the previous size`}`);
      previous = s;
    }
    const worst = ratios.length ? Math.max(...ratios) : NaN;
    console.log(`worst ratio per doubling: ${worst.toFixed(2)}× — goal ≤ ${GOAL}×: ${worst <= GOAL ? 'met' : 'missed'}`);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
