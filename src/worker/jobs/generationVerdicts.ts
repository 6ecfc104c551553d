/**
 * Plain-language conclusions of a generation benchmark: whether decoding is bound by the weight
 * bytes each token reads, how prefill and decode ratios differ, what MatMulNBits' accuracy level
 * and the CPU's int8 instructions mean for it, and whether quantization changed the greedy tokens.
 */
import { basename } from 'node:path';
import type { BenchReport, CpuFeatures, GenerationComparison, ModelBench, ModelGeneration } from '../../protocol/benchTypes';
import { formatBytes } from '../../core/tensor/formatBytes';
import { describeCpu } from './cpuFeatures';

const times = (x: number): string => `${x.toFixed(2)}×`;
const gb = formatBytes;
/** A decode ratio at least this fraction of the bytes ratio counts as tracking the bytes read. */
const TRACKS_BYTES = 0.6;

/** The label of a model's weights: INT4 with MatMulNBits, INT8 with integer MatMuls, else float. */
function weightKind(m: ModelBench): string {
  if (m.graphOps.MatMulNBits) return 'INT4';
  if (m.graphOps.MatMulInteger || m.graphOps.DynamicQuantizeMatMul || m.graphOps.MatMulIntegerToFloat) return 'INT8';
  return m.bitsPerWeight !== null && m.bitsPerWeight <= 16.5 ? `${Math.round(m.bitsPerWeight)}-bit` : 'float';
}

/** What the CPU offers MatMulNBits at accuracy level 4 (int8 activations and dot products). */
function int8Compute(cpu: CpuFeatures): string | undefined {
  if (!cpu.known) return undefined;
  if (cpu.avx512vnni || cpu.avxVnni || cpu.amxInt8) return `${describeCpu(cpu)}: int8 dot-product instructions`;
  if (cpu.avx2) return `${describeCpu(cpu)}: AVX2 int8 multiply-adds`;
  return undefined;
}

function modelGenerationVerdicts(g: ModelGeneration, m: ModelBench, cpu: CpuFeatures): string[] {
  const out: string[] = [];
  const name = basename(g.path);
  // Bytes read per token × tokens/s: how much of the memory bandwidth the weights alone use.
  const rate = g.weightBytesPerToken * g.decodeTokensPerSec;
  out.push(`${name}: each decode step reads ${gb(g.weightBytesPerToken)} of weights; at ${g.decodeTokensPerSec.toFixed(1)} tokens/s that is ${gb(rate)}/s, and the KV cache adds ${gb(g.kvCacheBytes)} by the last step.`);
  if (m.graphOps.MatMulNBits) {
    const levels = g.nbitsAccuracyLevels;
    const compute = int8Compute(cpu);
    if (levels.length === 1 && levels[0] === 4) out.push(`${name}: MatMulNBits runs at accuracy_level 4: activations are quantized to int8 per block and multiplied with int8 instructions${compute ? ` (${compute})` : ''}, instead of unpacking the 4-bit weights to float.`);
    else if (compute) out.push(`${name}: MatMulNBits runs at accuracy_level ${levels.join('/') || 0} (float compute: 4-bit weights unpacked to float in the kernel); accuracy_level 4 uses int8 compute (${compute}) and is often much faster at decode.`);
  }
  return out;
}

function comparisonVerdicts(c: GenerationComparison, a: ModelGeneration, b: ModelGeneration, mb: ModelBench, report: Omit<BenchReport, 'verdicts'>): string[] {
  const out: string[] = [];
  const an = basename(c.a), bn = basename(c.b);
  const kind = weightKind(mb);
  const bytes = a.weightBytesPerToken > 0 ? b.weightBytesPerToken / a.weightBytesPerToken : NaN;
  const bound = 1 / bytes;
  const [lo, hi] = c.decodeSpread;
  const noise = lo < 1 && hi > 1 ? ', which straddles 1×: no difference this run can resolve' : '';
  out.push(`measured decode ${c.decodeRatio >= 1 ? 'speedup' : 'slowdown'} of ${bn} over ${an}: ${times(c.decodeRatio)} per token (paired rounds p10–p90 ${times(lo)}–${times(hi)}${noise}); prefill (time to first token) ${times(c.prefillRatio)} (${times(c.prefillSpread[0])}–${times(c.prefillSpread[1])}) on ${report.cpu.model} (${describeCpu(report.cpu)}).`);
  if (Number.isFinite(bytes) && bytes < 0.95) {
    if (c.decodeRatio >= TRACKS_BYTES * bound) {
      out.push(`decode is memory-bound: ${kind} weights read ${bytes.toFixed(2)}× the bytes (${gb(b.weightBytesPerToken)} against ${gb(a.weightBytesPerToken)} per token), and decode ran ${times(c.decodeRatio)} faster of the ${times(bound)} the bytes allow.`);
    } else {
      const top = mb.opTimes[0];
      out.push(`decode is not bound by the weight bytes alone: ${kind} weights read ${bytes.toFixed(2)}× the bytes (up to ${times(bound)} if memory were the only limit), but decode ran ${times(c.decodeRatio)}: other costs limit it, the kernels' arithmetic or the per-step work of the other operators${top ? ` (${top.opType} leads the decode profile with ${Math.round(top.share * 100)}% of node time)` : ''}${mb.graphOps.MatMulNBits && !b.nbitsAccuracyLevels.includes(4) ? '; MatMulNBits at accuracy_level 4 trades that float compute for int8' : ''}.`);
    }
  }
  // Weight-only quantization saves bytes, which a prefill of many tokens reuses per weight: there the arithmetic dominates.
  if (c.decodeRatio > 1.1 && c.prefillRatio < c.decodeRatio * 0.8) out.push(`${bn} gains more in decode (${times(c.decodeRatio)}) than in prefill (${times(c.prefillRatio)}): a prefill of ${report.generation?.promptTokens ?? '?'} tokens reuses each weight for every token, so it is bound by arithmetic, not by reading the weights.`);
  if (!c.tokensAgree) out.push(`the greedy tokens of ${bn} diverge from ${an} at token ${c.firstDivergence ?? '?'}: the quantization moved a top logit past the next one; compare quality on held-out text, not on one greedy run.`);
  else out.push(`the greedy tokens of ${bn} agree with ${an} for all ${a.tokens.length} tokens.`);
  return out;
}

/** Verdicts of the generation part of a report: per model, then per comparison. */
export function generationVerdicts(report: Omit<BenchReport, 'verdicts'>): string[] {
  const g = report.generation;
  if (!g) return [];
  const out: string[] = [];
  g.models.forEach((x, i) => out.push(...modelGenerationVerdicts(x, report.models[i], report.cpu)));
  // Comparison k holds the first model against model k + 1 (paths may repeat, so they are matched by position).
  g.comparisons.forEach((c, k) => {
    const b = g.models[k + 1];
    if (b) out.push(...comparisonVerdicts(c, g.models[0], b, report.models[k + 1], report));
  });
  return out;
}
