import type { PruneReport } from '../protocol/pruneTypes';

function num(v: number | null, digits = 3): string {
  if (v === null) return '—';
  if (v === 0) return '0';
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(digits - 1) : v.toFixed(digits);
}

function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** The report of `quantscope prune` as readable text. */
export function renderPrune(r: PruneReport): string {
  const lines: string[] = [];
  const what = r.pattern ?? `${((r.targetSparsity ?? 0) * 100).toFixed(0)}% unstructured${r.global ? ' (global threshold)' : ''}`;
  lines.push(`${r.method} ${what}${r.permuted ? ' with channel permutation' : ''}: ${r.source} → ${r.output}`);
  if (r.calibrationBatches > 0) lines.push(`Calibration: ${r.calibrationBatches} batches${r.synthetic ? ' of generated inputs (synthetic)' : ''}`);
  lines.push('');
  lines.push(`Outputs on ${r.validation.batches} held-out batch${r.validation.batches === 1 ? '' : 'es'}${r.validation.synthetic ? ' (generated)' : ''}:`);
  for (const o of r.validation.outputs) {
    const cls = o.kl === null ? '' : `, KL ${num(o.kl)}, top-1 agreement ${((o.top1Agreement ?? 0) * 100).toFixed(1)}%`;
    lines.push(`  ${o.name}: rel L2 ${num(o.relativeL2)}, cosine ${o.cosine.toFixed(6)}, max abs ${num(o.maxAbsError)}${cls}`);
  }
  lines.push('');
  lines.push('Layers:');
  const rows = r.layers.map((l) => {
    const p = l.permutation;
    return [
      l.layer, `${l.outFeatures}×${l.inFeatures}`, `sparsity ${(l.sparsity * 100).toFixed(1)}%`,
      `err ${num(l.relativeError)}${l.magnitudeRelativeError === null ? '' : ` (magnitude ${num(l.magnitudeRelativeError)})`}`,
      p ? `permutation ${p.applied}, efficacy ${num(p.efficacy)}${p.reason ? ` (${p.reason})` : ''}` : '',
    ];
  });
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  for (const row of rows) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}`);
  for (const s of r.skipped) lines.push(`  skipped ${s.layer}: ${s.reason}`);
  lines.push('');
  const s = r.sizes;
  lines.push(`Size: ${bytes(s.sourceBytes)} → ${bytes(s.outputBytes)} dense (${s.zeros} of ${s.weights} pruned-layer weights are 0); about ${bytes(s.compressedEstimateBytes)} with a bitmask and the nonzero values`);
  lines.push(`Latency: ${r.latencyNote}`);
  const t = r.seconds;
  lines.push(`Time: ${t.total.toFixed(2)} s (calibration ${t.calibration.toFixed(2)}, pruning ${t.pruning.toFixed(2)}, write ${t.write.toFixed(2)}, validation ${t.validation.toFixed(2)}); ONNX Runtime ${r.runtimeVersion}`);
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}
