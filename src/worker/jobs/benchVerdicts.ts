/**
 * Plain-language conclusions from a benchmark run. Each verdict names the operators that ran (from
 * the profile, or the stored graph without one) and the CPU features it rests on, so a reader can
 * check it against the numbers next to it.
 */
import { basename } from 'node:path';
import type { BenchReport, CpuFeatures, ModelBench } from '../../protocol/benchTypes';
import { describeCpu } from './cpuFeatures';
import { generationVerdicts } from './generationVerdicts';

/** Integer matrix products whose speed depends on VNNI/AMX dot-product instructions. */
const INT_MATMULS = ['MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearMatMul', 'QGemm', 'QLinearConv', 'ConvInteger', 'QAttention'];
/** Operators a MatMul-weight quantization replaces or touches. */
const MATMUL_LIKE = new Set(['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm', 'MatMulNBits', ...INT_MATMULS]);

const pct = (x: number): string => `${Math.round(x * 100)}%`;
const times = (x: number): string => `${x.toFixed(2)}×`;

/** Share of profiled time per operator type, or undefined when the model was not profiled. */
function shareOf(m: ModelBench, op: string): number | undefined {
  if (!m.opTimes.length) return undefined;
  return m.opTimes.find((o) => o.opType === op)?.share ?? 0;
}

/** Operators that ran (profile) or are in the graph (no profile). */
function ran(m: ModelBench, op: string): boolean {
  const s = shareOf(m, op);
  return s === undefined ? (m.graphOps[op] ?? 0) > 0 : m.opTimes.some((o) => o.opType === op);
}

function share(m: ModelBench, op: string): string {
  const s = shareOf(m, op);
  return s === undefined ? 'not profiled' : `${pct(s)} of node time`;
}

function modelVerdicts(m: ModelBench, cpu: CpuFeatures, baseline: boolean, generation: boolean): string[] {
  const out: string[] = [];
  const name = basename(m.path);
  const vnni = cpu.avx512vnni || cpu.avxVnni || cpu.amxInt8;
  const ints = INT_MATMULS.filter((op) => ran(m, op));
  if (ints.length) {
    const list = ints.map((op) => `${op} (${share(m, op)})`).join(', ');
    if (!cpu.known) out.push(`${name}: INT8 ${list}; CPU features unknown on this OS, so whether VNNI speeds them up cannot be told.`);
    else if (!vnni) out.push(`${name}: INT8 ${list} without VNNI (${describeCpu(cpu)}): int8 dot products take several AVX2 instructions each; expect ≈1.0–1.2× over FP32 MatMul, less once activations are quantized per run.`);
    else out.push(`${name}: INT8 ${list} with ${describeCpu(cpu)}: native int8 dot products; expect up to ≈2× over FP32 on large MatMuls.`);
    const dql = shareOf(m, 'DynamicQuantizeLinear');
    if (dql !== undefined && dql >= 0.1) out.push(`${name}: ${pct(dql)} of the time is DynamicQuantizeLinear: quantizing activations on every run costs more than the int8 MatMuls save at these sizes.`);
  }
  const dq = shareOf(m, 'DequantizeLinear');
  if (dq !== undefined && dq >= 0.05) {
    out.push(`${name}: ${pct(dq)} of the time is DequantizeLinear: weight-only QDQ is stored smaller but runs in float (DequantizeLinear then float MatMul on ${describeCpu(cpu)}); use MatMulNBits or dynamic W8A8 for speed.`);
  } else if (dq === 0 && (m.graphOps.DequantizeLinear ?? 0) > 0) {
    const fusedInto = ['MatMulNBits', 'QLinearMatMul', 'QGemm', 'MatMulIntegerToFloat'].filter((op) => ran(m, op) && !m.graphOps[op]);
    out.push(fusedInto.length
      ? `${name}: the graph's ${m.graphOps.DequantizeLinear} DequantizeLinear nodes did not run: ONNX Runtime fused DequantizeLinear→MatMul into ${fusedInto.join(', ')} (${fusedInto.map((op) => share(m, op)).join(', ')}), so this QDQ model does not dequantize to float on every run.`
      : `${name}: the graph's ${m.graphOps.DequantizeLinear} DequantizeLinear nodes did not run as such: ONNX Runtime folded them into float weights at load, so the model runs in float like the original.`);
  }
  // Generation verdicts say how MatMulNBits computes, from its accuracy level.
  if (ran(m, 'MatMulNBits') && !generation) {
    out.push(`${name}: MatMulNBits ran (${share(m, 'MatMulNBits')}): its packed 4/8-bit weights are unpacked inside the kernel and multiplied in float${cpu.known ? ` (${describeCpu(cpu)})` : ''}; it saves memory traffic, which pays most at batch 1 and short inputs, not compute.`);
  }
  // The bound matters for the model others are compared with; repeating it per variant adds noise.
  if (baseline && m.opTimes.length) {
    const mm = matmulShare(m);
    const top = m.opTimes[0];
    if (mm < 0.5 && !MATMUL_LIKE.has(top.opType)) {
      out.push(`${name}: MatMul-type operators are ${pct(mm)} of node time and ${top.opType} leads with ${pct(top.share)}: quantizing MatMul weights can speed this model up by at most ${times(1 / Math.max(1e-9, 1 - mm))} (if those operators took no time at all).`);
    }
  }
  if (m.cv > 0.15) out.push(`${name}: latency varies (CV ${pct(m.cv)}): other work on the machine or clock changes; trust the medians and paired ratios, or rerun with more runs.`);
  return out;
}

/** Share of profiled time in MatMul-type operators. */
function matmulShare(m: ModelBench): number {
  return m.opTimes.filter((o) => MATMUL_LIKE.has(o.opType)).reduce((s, o) => s + o.share, 0);
}

/** Names of the operator types that ran in `m` and not in `base`, or the reverse. */
function opDiff(base: ModelBench, m: ModelBench): string {
  const ops = (x: ModelBench): Set<string> => new Set(x.opTimes.length ? x.opTimes.map((o) => o.opType) : Object.keys(x.graphOps));
  const a = ops(base), b = ops(m);
  const added = [...b].filter((o) => !a.has(o) && (MATMUL_LIKE.has(o) || o.includes('Quantize')));
  return added.length ? ` (runs ${added.join(', ')})` : '';
}

/** Verdicts for a report: per model, then per comparison. */
export function benchVerdicts(report: Omit<BenchReport, 'verdicts'>): string[] {
  const out: string[] = [];
  report.models.forEach((m, i) => out.push(...modelVerdicts(m, report.cpu, i === 0, report.generation !== undefined)));
  out.push(...generationVerdicts(report));
  for (const c of report.comparisons) {
    const a = report.models.find((m) => m.path === c.a);
    const b = report.models.find((m) => m.path === c.b);
    if (!a || !b) continue;
    const [lo, hi] = c.spread;
    // Within half a percent the rounded figure would read 1.00× either way.
    const what = c.ratioOfMedians >= 1.005 ? 'speedup' : c.ratioOfMedians <= 0.995 ? 'slowdown' : 'ratio';
    // A generation report says this per phase, with the bytes each token reads.
    if (!report.generation) out.push(`measured ${what} of ${basename(b.path)}${opDiff(a, b)} over ${basename(a.path)}: ${times(c.ratioOfMedians)} (p50; paired rounds p10–p90 ${times(lo)}–${times(hi)}${lo < 1 && hi > 1 ? ', which straddles 1×: no difference this run can resolve' : ''}) on ${report.cpu.model} (${describeCpu(report.cpu)}).`);
    if (a.opTimes.length) {
      const mm = matmulShare(a);
      const bound = 1 / Math.max(1e-9, 1 - mm);
      // A quantizer that only rewrites MatMul weights cannot beat Amdahl's bound; beyond it the machine moved.
      if (c.ratioOfMedians > bound * 1.05 && lo < bound) out.push(`the ${times(c.ratioOfMedians)} of ${basename(b.path)} exceeds the ${times(bound)} that MatMul-type operators (${pct(mm)} of ${basename(a.path)}'s time) allow and the paired rounds spread ${times(lo)}–${times(hi)}: the difference is machine noise, not the quantization; rerun with more runs or fewer threads.`);
    }
  }
  if (!out.length) {
    const m = report.models[0];
    const top = m.opTimes.slice(0, 3).map((o) => `${o.opType} ${pct(o.share)}`).join(', ');
    out.push(`${basename(m.path)}: p50 ${m.latencyMs.p50.toFixed(3)} ms${top ? `; time goes to ${top}` : ''} on ${describeCpu(report.cpu)}.`);
  }
  return out;
}
