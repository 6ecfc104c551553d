import type { QuantizeReport } from '../protocol/quantizeTypes';
import { describeQuantize } from '../core/transform/describeReport';
import { renderDecoderGraph } from './renderExport';
import { bytes, num, renderLayerRows, renderOutputs } from './renderOutputs';

/** The report of `quantscope quantize` as readable text. */
export function renderQuantize(r: QuantizeReport): string {
  const lines: string[] = [];
  lines.push(`${describeQuantize(r)}: ${r.source} → ${r.output}`);
  lines.push(...renderDecoderGraph(r.decoderGraph));
  if (r.calibrationBatches > 0) lines.push(`Calibration: ${r.calibrationBatches} batches${r.synthetic ? ' of generated inputs (synthetic)' : ''}`);
  for (const s of r.smoothing ?? []) {
    const where = s.foldedInto ? `folded into ${s.foldedInto.opType} ${s.foldedInto.node}` : `Mul ${s.mulNode ?? ''}`;
    lines.push(`Smoothed ${s.activation} (${s.layers.length} layer${s.layers.length === 1 ? '' : 's'}): s in [${num(s.minScale, 3)}, ${num(s.maxScale, 3)}], difficulty ${num(s.difficultyBefore, 3)} → ${num(s.difficultyAfter, 3)}, ${where}`);
  }
  if (r.plan) {
    const budget = r.plan.budget === null ? 'given plan' : r.plan.budget.kind === 'bits' ? `budget ${r.plan.budget.bitsPerWeight} bits per weight` : `error budget ${r.plan.budget.maxError}`;
    lines.push(`Plan (${budget})${r.plan.plannedBitsPerWeight === null ? '' : `: planned ${r.plan.plannedBitsPerWeight.toFixed(2)} bits per weight, summed error ${num(r.plan.plannedError)}`}${r.plan.storedBitsPerWeight === undefined ? '' : `; stored ${r.plan.storedBitsPerWeight.toFixed(2)} bits per weight over the planned layers`}`);
    if (r.plan.note) lines.push(`  ${r.plan.note}`);
  }
  lines.push('');
  lines.push(...renderOutputs(r.validation));
  lines.push('');
  lines.push('Layers:');
  const rows = r.layers.map((l) => [
    l.layer, l.choice ?? l.kind, l.container + (l.outlierChannels ? ` (${l.outlierChannels.length} float ch.)` : '') + (l.activation ? ` act. scale ${num(l.activation.scale, 3)}` : ''), `${num(l.bitsPerWeight, 2)} b/w`, `SQNR ${l.sqnrDb === null ? '∞' : l.sqnrDb.toFixed(1)} dB`,
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
