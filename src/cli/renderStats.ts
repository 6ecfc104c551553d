import type { WeightProfile } from '../protocol/workerProtocol';

function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return '-';
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(digits);
}

/** Renders weight statistics as an aligned table, one tensor a line. */
export function renderStats(p: WeightProfile): string {
  const head = ['tensor', 'dtype', 'shape', 'absmax', 'std', 'kurt', '>6σ', 'int8/t dB', 'int8/ch dB', 'int4/g dB'];
  const rows = p.tensors.flatMap((t) => {
    const s = t.stats;
    if (!s) return [];
    const q = (scheme: string): string => num(s.quantization.find((e) => e.scheme === scheme)?.sqnrDb ?? null, 1);
    return [[t.name, t.dtype, `[${t.shape.join(',')}]`, num(s.absmax), num(s.std), num(s.kurtosis, 2), num(s.outlierFraction6Sigma, 6), q('int8-per-tensor'), q('int8-per-channel'), q('int4-group-sym')]];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  const failed = p.tensors.filter((t) => !t.stats);
  if (failed.length) out.push('', ...failed.map((t) => `${t.name} (${t.dtype}): ${t.error ?? 'no statistics'}`));
  out.push('', `${p.tensors.length} tensors profiled, ${p.skipped} non-floating tensors skipped, ${(p.elapsedMs / 1000).toFixed(2)} s`);
  if (p.tensors.some((t) => t.dequantized)) out.push('Statistics of quantized GGUF tensors are over their dequantized values.');
  return out.join('\n') + '\n';
}
