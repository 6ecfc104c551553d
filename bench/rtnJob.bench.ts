/**
 * RTN inside a quantize job against the bare rounding kernel, on a Llama-shaped decoder built
 * from seeded weights (default hidden 1024, 2 layers, intermediate 2816, vocabulary 1000; about
 * 24M MatMul weights). For INT8 per-channel (QDQ DequantizeLinear and dynamic W8A8) and INT4
 * g128 (MatMulNBits) the quantize job runs on the saved model without calibration, and its
 * kernel time (reading each weight, rounding, the weight SQNR, packing and rewriting; not the
 * model's write or validation) gives weights/s; `quantizeRtn` on the same weights, already in
 * memory, gives the kernel's own figure. A job with calibration (so that every layer's error
 * tr(ΔW H ΔWᵀ)/tr(W H Wᵀ) is measured as well) is timed apart. Also printed: a plain first
 * pass over the freshly read weight bytes, the floor any job pays for touching its input (on a
 * machine whose first touch of a page is slow this floor alone can be below the goal). Goal:
 * ≥ 200M weights/s per core for the job. A benchmark, not a test: it prints, it does not assert.
 *   npm run bench -- rtnJob [--hidden=H] [--layers=L] [--rounds=K]
 */
import { join } from 'node:path';
import { buildDecoder, readHfConfig } from '../src/core/decoder';
import { OnnxModel } from '../src/core/onnx/OnnxModel';
import { canonicalWeight, findWeightTargets } from '../src/core/onnx/rewrite';
import { quantizeRtn, type QuantScheme } from '../src/core/quant';
import type { QuantizeReport, RtnParams } from '../src/protocol/quantizeTypes';
import { QUIET_JOB } from '../src/worker/jobs/JobContext';
import { quantizeModel } from '../src/worker/jobs/quantize';
import { ratio, withTempDirAsync } from './support/benchSupport';
import { RandomDecoderSource } from './support/RandomDecoderSource';

/** The goal for RTN in a quantize job, weights per second on one core. */
const GOAL = 200e6;

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

interface Variant {
  readonly label: string;
  readonly scheme: QuantScheme;
  readonly params: Omit<RtnParams, 'path' | 'output'>;
}

const VARIANTS: readonly Variant[] = [
  { label: 'INT8 per-channel, QDQ', scheme: { bits: 8, symmetric: true, granularity: 'channel' }, params: { method: 'rtn', bits: 8, format: 'qdq' } },
  { label: 'INT8 per-channel, dynamic W8A8', scheme: { bits: 8, symmetric: true, granularity: 'channel' }, params: { method: 'rtn', bits: 8, format: 'dynamic' } },
  { label: 'INT4 g128, MatMulNBits', scheme: { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 }, params: { method: 'rtn', bits: 4, group: 128, format: 'nbits' } },
  { label: 'UINT4 g128, MatMulNBits', scheme: { bits: 4, symmetric: false, granularity: 'group', groupSize: 128 }, params: { method: 'rtn', bits: 4, group: 128, format: 'nbits', symmetric: false } },
];

const mws = (weights: number, seconds: number): string => `${(weights / seconds / 1e6).toFixed(1).padStart(7)}M weights/s`;

async function main(): Promise<void> {
  const hidden = option('hidden', 1024);
  const layers = option('layers', 2);
  const rounds = option('rounds', 2);
  const config = readHfConfig({
    model_type: 'llama', hidden_size: hidden, intermediate_size: Math.round((hidden * 11) / 4 / 64) * 64, num_hidden_layers: layers,
    num_attention_heads: Math.max(1, hidden / 64), num_key_value_heads: Math.max(1, hidden / 256), vocab_size: 1000, max_position_embeddings: 4096,
    rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, hidden_act: 'silu',
  });
  await withTempDirAsync('quantscope-bench-rtn-', async (dir) => {
    const fp32 = join(dir, 'decoder.onnx');
    await (await buildDecoder(new RandomDecoderSource(config))).save(fp32);

    // The bare kernel and the floor, on the same weights read once.
    const model = await OnnxModel.load(fp32);
    const targets = findWeightTargets(model).targets;
    const weights = targets.reduce((n, t) => n + t.inFeatures * t.outFeatures, 0);
    let t0 = performance.now();
    const scratch = new Float32Array(Math.max(...targets.map((t) => t.inFeatures * t.outFeatures)));
    for (const t of targets) model.getFloatTensor(t.weight, scratch.subarray(0, t.inFeatures * t.outFeatures));
    const floor = (performance.now() - t0) / 1000;
    const Ws = targets.map((t) => ({ rows: t.outFeatures, cols: t.inFeatures, data: canonicalWeight(model, t) }));
    console.log(`decoder: hidden ${hidden}, ${layers} layers, intermediate ${config.intermediateSize}, ${targets.length} MatMul weights, ${(weights / 1e6).toFixed(1)}M weights`);
    console.log(`first pass over the freshly read weight bytes (decode into one reused array): ${floor.toFixed(3)} s = ${mws(weights, floor)}`);

    console.log('scheme                            bare kernel             job (no calibration)    job/kernel  goal');
    for (const v of VARIANTS) {
      let kernel = Infinity;
      for (let k = 0; k < 3; k++) {
        t0 = performance.now();
        for (const W of Ws) quantizeRtn(W, v.scheme);
        kernel = Math.min(kernel, (performance.now() - t0) / 1000);
      }
      let job = Infinity;
      let quantized = 0;
      for (let k = 0; k < rounds; k++) {
        const r: QuantizeReport = await quantizeModel({ ...v.params, path: fp32, output: join(dir, 'out.onnx'), overwrite: true, validationBatches: 1 }, QUIET_JOB);
        quantized = r.sizes.quantizedWeights;
        job = Math.min(job, r.seconds.quantization);
      }
      console.log(`${v.label.padEnd(32)}  ${mws(weights, kernel)}  ${mws(quantized, job)}  ${ratio(kernel, job).padStart(9)}×  ${quantized / job >= GOAL ? 'met' : 'missed'} (≥ ${GOAL / 1e6}M)`);
    }

    // With calibration every layer's error under its H is measured too: the job's kernel time then includes that.
    const v = VARIANTS[2];
    const samples = 4, seq = 32;
    const r = await quantizeModel({ ...v.params, path: fp32, output: join(dir, 'out.onnx'), overwrite: true, validationBatches: 1, calibration: { samples, sequenceLength: seq } }, QUIET_JOB);
    console.log(`${v.label} with calibration (${samples}×${seq} = ${r.layers[0]?.calibrationRows ?? '?'} rows; layer errors under H): ${r.seconds.quantization.toFixed(2)} s = ${mws(r.sizes.quantizedWeights, r.seconds.quantization)} (calibration ${r.seconds.calibration.toFixed(2)} s apart)`);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
