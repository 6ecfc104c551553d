import { basename } from 'node:path';
import type { BenchReport, GenerationReport } from '../protocol/benchTypes';
import { describeCpu } from '../worker/jobs/cpuFeatures';

function ms(v: number): string {
  return v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((row) => `  ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`);
}

/** The latency table and the comparisons of a latency run. */
function latencyLines(r: BenchReport): string[] {
  const lines: string[] = [];
  lines.push(...table([
    ['model', 'p50 ms', 'min', 'p90', 'p99', 'max', 'CV', '/s', 'create ms', 'size', 'bits/w', 'peak RSS'],
    ...r.models.map((m) => [
      basename(m.path), ms(m.latencyMs.p50), ms(m.latencyMs.min), ms(m.latencyMs.p90), ms(m.latencyMs.p99), ms(m.latencyMs.max),
      `${(m.cv * 100).toFixed(1)}%`, m.throughputPerSec.toFixed(1), ms(m.sessionCreateMs), bytes(m.fileSize),
      m.bitsPerWeight === null ? '—' : m.bitsPerWeight.toFixed(2), bytes(m.peakRssBytes),
    ]),
  ]));
  lines.push('  (peak RSS is of the whole process, so each model includes the ones loaded before it)');
  for (const c of r.comparisons) {
    lines.push('');
    lines.push(`${basename(c.b)} vs ${basename(c.a)}: ${c.ratioOfMedians.toFixed(2)}× (ratio of medians; paired rounds p10–p90 ${c.spread[0].toFixed(2)}–${c.spread[1].toFixed(2)}×)`);
    for (const o of c.agreement ?? []) {
      const top = o.top1Agreement === null ? '' : `, top-1 agreement ${(o.top1Agreement * 100).toFixed(1)}%`;
      lines.push(`  output ${o.name}: rel L2 ${o.relativeL2.toExponential(2)}, cosine ${o.cosine.toFixed(6)}${top}`);
    }
  }
  return lines;
}

/** The generation table (prefill, decode, cache, bytes read) and the per-phase comparisons. */
function generationLines(r: BenchReport, g: GenerationReport): string[] {
  const lines: string[] = [];
  lines.push(...table([
    ['model', 'TTFT ms', 'decode ms/token', 'p90', 'tokens/s', 'CV', 'KV cache', 'weights/token', 'peak RSS', 'size', 'bits/w'],
    ...g.models.map((x, i) => {
      const m = r.models[i];
      return [
        basename(x.path), ms(x.prefillMs.p50), ms(m.latencyMs.p50), ms(m.latencyMs.p90), x.decodeTokensPerSec.toFixed(1), `${(m.cv * 100).toFixed(1)}%`,
        bytes(x.kvCacheBytes), bytes(x.weightBytesPerToken), bytes(m.peakRssBytes), bytes(m.fileSize), m.bitsPerWeight === null ? '—' : m.bitsPerWeight.toFixed(2),
      ];
    }),
  ]));
  lines.push(`  (TTFT is the prefill's median; decode is per token over ${r.settings.rounds}×${g.newTokens} steps; KV cache at ${g.promptTokens + g.newTokens} positions; peak RSS is of the whole process)`);
  for (const x of g.models) lines.push(`  ${basename(x.path)}: ${x.decoder.layers} layers, ${x.decoder.kvHeads} KV heads × ${x.decoder.headDim}, vocabulary ${x.decoder.vocabSize}; tokens ${x.tokens.slice(0, 12).join(' ')}${x.tokens.length > 12 ? ' …' : ''}`);
  for (const c of g.comparisons) {
    lines.push('');
    const span = (s: readonly [number, number]): string => `${s[0].toFixed(2)}–${s[1].toFixed(2)}×`;
    lines.push(`${basename(c.b)} vs ${basename(c.a)}: prefill ${c.prefillRatio.toFixed(2)}× (paired rounds p10–p90 ${span(c.prefillSpread)}), decode ${c.decodeRatio.toFixed(2)}× (${span(c.decodeSpread)})`);
    lines.push(`  greedy tokens ${c.tokensAgree ? 'agree' : `diverge at token ${c.firstDivergence ?? '?'} of ${g.newTokens + 1}`}`);
  }
  return lines;
}

/** The report of `quantscope bench` as readable text. */
export function renderBench(r: BenchReport): string {
  const s = r.settings;
  const lines: string[] = [];
  lines.push(`CPU: ${r.cpu.model}, ${r.cpu.cores} logical cores; ${describeCpu(r.cpu)}`);
  const shapes = Object.entries(s.inputs).map(([n, d]) => `${n} [${d.join(',')}]`).join(', ');
  const g = r.generation;
  const counted = `${s.warmup} warm-up + ${s.rounds}${s.rounds < s.runs ? ` of ${s.runs} (time budget)` : ''} interleaved`;
  lines.push(`ONNX Runtime ${s.runtime}, optimization ${s.optimizationLevel}, threads ${s.threads || 'default'}, ${g
    ? `${counted} generations of a ${g.promptFrom} prompt of ${g.promptTokens} tokens + ${g.newTokens} new tokens (greedy, KV cache fed back)`
    : `${counted} runs; ${s.inputsFrom} inputs ${shapes}`}`);
  lines.push('');
  lines.push(...(r.generation ? generationLines(r, r.generation) : latencyLines(r)));
  for (const m of r.models) {
    if (!m.opTimes.length) continue;
    lines.push('');
    lines.push(`Operators of ${basename(m.path)}${r.generation ? ' in decode steps' : ''} (profiled separately; Quantize/Dequantize ${(m.quantDequantShare * 100).toFixed(1)}%):`);
    const top = m.opTimes.slice(0, 8);
    lines.push(...table(top.map((o) => [o.opType, `${ms(o.ms)} ms`, `${(o.share * 100).toFixed(1)}%`, `${o.nodes} node${o.nodes === 1 ? '' : 's'}`])));
    if (m.opTimes.length > top.length) lines.push(`  … ${m.opTimes.length - top.length} more operator types`);
  }
  lines.push('');
  lines.push('Why:');
  for (const v of r.verdicts) lines.push(`  - ${v}`);
  return lines.join('\n') + '\n';
}
