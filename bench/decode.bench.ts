/**
 * Decode speed of quantized language models: a Llama-shaped decoder (hidden 2048, 8 layers,
 * intermediate 5632, 32 query and 8 KV heads, vocabulary 32000; seeded random weights, built
 * from an in-memory source) large enough that one decode step reads more weights than the CPU's
 * caches hold. It is quantized by the quantize job to INT4 MatMulNBits (RTN, block 128) and to
 * INT8 dynamic W8A8; a copy of the INT4 model at accuracy_level 4 holds the same codes (what
 * `quantize --accuracy-level 4` writes), so it is not quantized a second time. All four are then
 * decode-benchmarked by the benchmark job's generation mode in one interleaved run. Prints decode tokens/s side by side,
 * each one's ratio to FP32 (the reference), the weight bytes a step reads, and the goal:
 * INT4 decode ≥ 2.5× FP32 tokens/s. A benchmark, not a test: it prints, it does not assert.
 *   npm run bench -- decode [--threads=N] [--prompt=P] [--new=N] [--rounds=K] [--vocab=V]
 * Needs about 8 GB of memory and 4 GB of temporary disk. It can take over half an hour, almost all
 * of it in the quantize job (426M weights per quantization), which prints its own time.
 */
import { basename, join } from 'node:path';
import { buildDecoder, readHfConfig } from '../src/core/decoder';
import { Attr, OnnxModel } from '../src/core/onnx/OnnxModel';
import { formatBytes } from '../src/core/tensor/formatBytes';
import type { BenchReport } from '../src/protocol/benchTypes';
import type { QuantizeParams } from '../src/protocol/quantizeTypes';
import { benchmarkModels } from '../src/worker/jobs/benchmark';
import { QUIET_JOB } from '../src/worker/jobs/JobContext';
import { quantizeModel } from '../src/worker/jobs/quantize';
import { ratio, withTempDirAsync } from './support/benchSupport';
import { RandomDecoderSource } from './support/RandomDecoderSource';

/** The goal of the issue: INT4 decode tokens/s over FP32's. */
const GOAL = 2.5;

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

/** Writes `to`: the MatMulNBits model `from` with every MatMulNBits node at accuracy level `level`. */
async function withAccuracyLevel(from: string, to: string, level: number): Promise<void> {
  const model = await OnnxModel.load(from);
  for (const n of model.nodes) {
    if (n.opType !== 'MatMulNBits') continue;
    n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== 'accuracy_level'), Attr.int('accuracy_level', level)];
  }
  await model.save(to);
}

interface Variant {
  readonly label: string;
  readonly file: string;
  readonly params?: Omit<QuantizeParams, 'path' | 'output'>;
}

async function main(): Promise<void> {
  const threads = option('threads', 1);
  const promptTokens = option('prompt', 32);
  const newTokens = option('new', 32);
  const rounds = option('rounds', 3);
  const vocab = option('vocab', 32000);
  const config = readHfConfig({
    model_type: 'llama', hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 8, num_attention_heads: 32, num_key_value_heads: 8,
    vocab_size: vocab, max_position_embeddings: 4096, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, hidden_act: 'silu',
  });
  await withTempDirAsync('quantscope-bench-decode-', async (dir) => {
    const fp32 = join(dir, 'llama-2048x8.onnx');
    const source = new RandomDecoderSource(config);
    let t0 = performance.now();
    const model = await buildDecoder(source);
    await model.save(fp32);
    const weights = source.float32Bytes / 4;
    console.log(`decoder: hidden ${config.hiddenSize}, ${config.numLayers} layers, intermediate ${config.intermediateSize}, heads ${config.numHeads}/${config.numKvHeads} (GQA), vocabulary ${config.vocabSize}: ${(weights / 1e6).toFixed(0)}M weights, built and saved in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const variants: Variant[] = [
      { label: 'FP32', file: fp32 },
      { label: 'INT4 RTN g128 (MatMulNBits)', file: join(dir, 'llama.q4.onnx'), params: { method: 'rtn', bits: 4, group: 128, format: 'nbits' } },
      { label: 'INT4 RTN g128, accuracy_level 4', file: join(dir, 'llama.q4a4.onnx') },
      { label: 'INT8 dynamic W8A8', file: join(dir, 'llama.w8a8.onnx'), params: { method: 'rtn', bits: 8, format: 'dynamic' } },
    ];
    for (const v of variants) {
      if (!v.params) continue;
      t0 = performance.now();
      const r = await quantizeModel({ ...v.params, path: fp32, output: v.file, validationBatches: 1, calibration: { sequenceLength: 16 } } as QuantizeParams, QUIET_JOB);
      const s = (performance.now() - t0) / 1000;
      const quantized = r.layers.reduce((n, l) => n + l.weights, 0);
      if (v.params.format === 'nbits') await withAccuracyLevel(v.file, variants[2].file, 4);
      console.log(`quantize job, ${v.label}: ${s.toFixed(1)} s for ${r.layers.length} layers, ${(quantized / 1e6).toFixed(0)}M weights (${(quantized / 1e6 / s).toFixed(1)}M weights/s overall; write ${r.seconds.write.toFixed(1)} s, validation ${r.seconds.validation.toFixed(1)} s); ${formatBytes(r.sizes.outputBytes)}`);
    }

    t0 = performance.now();
    const report: BenchReport = await benchmarkModels({ models: variants.map((v) => v.file), threads, runs: rounds, warmup: 1, generate: { promptTokens, newTokens } }, QUIET_JOB);
    console.log(`generation benchmark: prompt ${promptTokens} tokens, ${newTokens} new tokens, 1 warm-up + ${report.settings.rounds} interleaved rounds, ${threads} thread${threads === 1 ? '' : 's'}, ${((performance.now() - t0) / 1000).toFixed(0)} s, on ${report.cpu.model}`);
    const gen = report.generation;
    if (!gen) throw new Error('the benchmark returned no generation report');
    const ref = gen.models[0];
    for (const [i, g] of gen.models.entries()) {
      const m = report.models[i];
      const top = m.opTimes.slice(0, 3).map((o) => `${o.opType} ${Math.round(o.share * 100)}%`).join(', ');
      console.log(`  ${variants[i].label.padEnd(32)} decode ${g.decodeTokensPerSec.toFixed(2).padStart(6)} tokens/s (${m.latencyMs.p50.toFixed(1)} ms/token, p90 ${m.latencyMs.p90.toFixed(1)}), ${ratio(g.decodeTokensPerSec, ref.decodeTokensPerSec)}× FP32; TTFT ${g.prefillMs.p50.toFixed(0)} ms; reads ${formatBytes(g.weightBytesPerToken)}/token = ${ratio(g.weightBytesPerToken, ref.weightBytesPerToken)}× FP32 (${(g.weightBytesPerToken * g.decodeTokensPerSec / 1e9).toFixed(1)} GB/s); decode profile: ${top || 'none'}`);
    }
    for (const [k, c] of gen.comparisons.entries()) {
      console.log(`  ${basename(c.b)}: decode ${c.decodeRatio.toFixed(2)}× (paired p10–p90 ${c.decodeSpread[0].toFixed(2)}–${c.decodeSpread[1].toFixed(2)}), prefill ${c.prefillRatio.toFixed(2)}×, greedy tokens ${c.tokensAgree ? 'agree' : `diverge at ${c.firstDivergence ?? '?'}`} (${variants[k + 1].label})`);
    }
    const int4 = Math.max(gen.models[1].decodeTokensPerSec, gen.models[2].decodeTokensPerSec) / ref.decodeTokensPerSec;
    console.log(`INT4 decode over FP32 (best of the two INT4 variants): ${int4.toFixed(2)}× — goal ≥ ${GOAL}×: ${int4 >= GOAL ? 'met' : 'missed'}`);
    console.log('Why:');
    for (const v of report.verdicts) console.log(`  - ${v}`);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
