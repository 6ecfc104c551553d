import type { QuantizeReport } from '../protocol/quantizeTypes';
import { bytes, num, renderLayerRows, renderOutputs } from './renderOutputs';

/** The report of `quantscope quantize` as readable text. */
export function renderQuantize(r: QuantizeReport): string {
  const lines: string[] = [];
  const scheme = `${r.bits}-bit ${r.symmetric ? 'symmetric' : 'asymmetric'} ${r.group === null ? 'per-channel' : `group ${r.group}`}`;
  lines.push(`${r.method.toUpperCase()} ${scheme}, format ${r.format}: ${r.source} → ${r.output}`);
  if (r.calibrationBatches > 0) lines.push(`Calibration: ${r.calibrationBatches} batches${r.synthetic ? ' of generated inputs (synthetic)' : ''}`);
  lines.push('');
  lines.push(...renderOutputs(r.validation));
  lines.push('');
  lines.push('Layers:');
  const rows = r.layers.map((l) => [
    l.layer, l.kind, l.container, `${num(l.bitsPerWeight, 2)} b/w`, `SQNR ${l.sqnrDb === null ? '∞' : l.sqnrDb.toFixed(1)} dB`,
    `err ${num(l.relativeError)}${l.rtnRelativeError === null ? '' : ` (RTN ${num(l.rtnRelativeError)})`}`,
  ]);
  lines.push(...renderLayerRows(rows, r.skipped));
  lines.push('');
  const s = r.sizes;
  lines.push(`Size: ${bytes(s.sourceBytes)} → ${bytes(s.outputBytes)}; quantized weights ${bytes(s.floatWeightBytes)} → ${bytes(s.quantizedWeightBytes)} (${s.bitsPerWeight.toFixed(2)} bits per weight)`);
  const t = r.seconds;
  lines.push(`Time: ${t.total.toFixed(2)} s (calibration ${t.calibration.toFixed(2)}, quantization ${t.quantization.toFixed(2)}, write ${t.write.toFixed(2)}, validation ${t.validation.toFixed(2)}); ONNX Runtime ${r.runtimeVersion}`);
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}
