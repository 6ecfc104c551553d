import type { SkippedRewrite } from '../core/onnx/rewrite/RewriteRecord';
import type { TransformValidation } from '../protocol/quantizeTypes';

/** A figure with `digits` significant places, exponential when very small or large; `—` for null. */
export function num(v: number | null, digits = 3): string {
  if (v === null) return '—';
  if (v === 0) return '0';
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(digits - 1) : v.toFixed(digits);
}

/** A byte count in B, KiB or MiB. */
export function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** The lines of a transform's held-out validation: a heading, then one line of metrics per output. */
export function renderOutputs(v: TransformValidation): string[] {
  const lines: string[] = [];
  lines.push(`Outputs on ${v.batches} held-out batch${v.batches === 1 ? '' : 'es'}${v.synthetic ? ' (generated)' : ''}:`);
  for (const o of v.outputs) {
    const cls = o.kl === null ? '' : `, KL ${num(o.kl)}, top-1 agreement ${((o.top1Agreement ?? 0) * 100).toFixed(1)}%`;
    lines.push(`  ${o.name}: rel L2 ${num(o.relativeL2)}, cosine ${o.cosine.toFixed(6)}, max abs ${num(o.maxAbsError)}${cls}`);
  }
  return lines;
}

/** The lines of a layer table (cells padded to their column's width), then one line per skipped layer. */
export function renderLayerRows(rows: readonly (readonly string[])[], skipped: readonly SkippedRewrite[]): string[] {
  const lines: string[] = [];
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  for (const row of rows) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}`);
  for (const s of skipped) lines.push(`  skipped ${s.layer}: ${s.reason}`);
  return lines;
}
