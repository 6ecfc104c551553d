import type { QuantizeReport } from '../protocol/quantizeTypes';

function num(v: number | null, digits = 3): string {
  if (v === null) return '—';
  if (v === 0) return '0';
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(digits - 1) : v.toFixed(digits);
}

function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** The report of `quantscope quantize` as readable text. */
export function renderQuantize(r: QuantizeReport): string {
  const lines: string[] = [];
  const scheme = `${r.bits}-bit ${r.symmetric ? 'symmetric' : 'asymmetric'} ${r.group === null ? 'per-channel' : `group ${r.group}`}`;
  lines.push(`${r.method.toUpperCase()} ${scheme}, format ${r.format}: ${r.source} → ${r.output}`);
  if (r.calibrationBatches > 0) lines.push(`Calibration: ${r.calibrationBatches} batches${r.synthetic ? ' of generated inputs (synthetic)' : ''}`);
  lines.push('');
  lines.push(`Outputs on ${r.validation.batches} held-out batch${r.validation.batches === 1 ? '' : 'es'}${r.validation.synthetic ? ' (generated)' : ''}:`);
  for (const o of r.validation.outputs) {
    const cls = o.kl === null ? '' : `, KL ${num(o.kl)}, top-1 agreement ${((o.top1Agreement ?? 0) * 100).toFixed(1)}%`;
    lines.push(`  ${o.name}: rel L2 ${num(o.relativeL2)}, cosine ${o.cosine.toFixed(6)}, max abs ${num(o.maxAbsError)}${cls}`);
  }
  lines.push('');
  lines.push('Layers:');
  const rows = r.layers.map((l) => [
    l.layer, l.kind, l.container, `${num(l.bitsPerWeight, 2)} b/w`, `SQNR ${l.sqnrDb === null ? '∞' : l.sqnrDb.toFixed(1)} dB`,
    `err ${num(l.relativeError)}${l.rtnRelativeError === null ? '' : ` (RTN ${num(l.rtnRelativeError)})`}`,
  ]);
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  for (const row of rows) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}`);
  for (const s of r.skipped) lines.push(`  skipped ${s.layer}: ${s.reason}`);
  lines.push('');
  const s = r.sizes;
  lines.push(`Size: ${bytes(s.sourceBytes)} → ${bytes(s.outputBytes)}; quantized weights ${bytes(s.floatWeightBytes)} → ${bytes(s.quantizedWeightBytes)} (${s.bitsPerWeight.toFixed(2)} bits per weight)`);
  const t = r.seconds;
  lines.push(`Time: ${t.total.toFixed(2)} s (calibration ${t.calibration.toFixed(2)}, quantization ${t.quantization.toFixed(2)}, write ${t.write.toFixed(2)}, validation ${t.validation.toFixed(2)}); ONNX Runtime ${r.runtimeVersion}`);
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}
