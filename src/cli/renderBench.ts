import { basename } from 'node:path';
import type { BenchReport } from '../protocol/benchTypes';
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

/** The report of `quantscope bench` as readable text. */
export function renderBench(r: BenchReport): string {
  const s = r.settings;
  const lines: string[] = [];
  lines.push(`CPU: ${r.cpu.model}, ${r.cpu.cores} logical cores; ${describeCpu(r.cpu)}`);
  const shapes = Object.entries(s.inputs).map(([n, d]) => `${n} [${d.join(',')}]`).join(', ');
  lines.push(`ONNX Runtime ${s.runtime}, optimization ${s.optimizationLevel}, threads ${s.threads || 'default'}, ${s.warmup} warm-up + ${s.rounds}${s.rounds < s.runs ? ` of ${s.runs} (time budget)` : ''} interleaved runs; ${s.inputsFrom} inputs ${shapes}`);
  lines.push('');
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
  for (const m of r.models) {
    if (!m.opTimes.length) continue;
    lines.push('');
    lines.push(`Operators of ${basename(m.path)} (profiled separately; Quantize/Dequantize ${(m.quantDequantShare * 100).toFixed(1)}%):`);
    const top = m.opTimes.slice(0, 8);
    lines.push(...table(top.map((o) => [o.opType, `${ms(o.ms)} ms`, `${(o.share * 100).toFixed(1)}%`, `${o.nodes} node${o.nodes === 1 ? '' : 's'}`])));
    if (m.opTimes.length > top.length) lines.push(`  … ${m.opTimes.length - top.length} more operator types`);
  }
  lines.push('');
  lines.push('Why:');
  for (const v of r.verdicts) lines.push(`  - ${v}`);
  return lines.join('\n') + '\n';
}
