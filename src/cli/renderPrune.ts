import { describePrune } from '../core/transform/describeReport';
import type { PruneReport } from '../protocol/pruneTypes';
import { renderDecoderGraph } from './renderExport';
import { bytes, num, renderLayerRows, renderOutputs } from './renderOutputs';

/** The report of `quantscope prune` as readable text. */
export function renderPrune(r: PruneReport): string {
  const lines: string[] = [];
  lines.push(`${describePrune(r)}: ${r.source} → ${r.output}`);
  lines.push(...renderDecoderGraph(r.decoderGraph));
  if (r.calibrationBatches > 0) lines.push(`Calibration: ${r.calibrationBatches} batches${r.synthetic ? ' of generated inputs (synthetic)' : ''}`);
  lines.push('');
  lines.push(...renderOutputs(r.validation));
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
  lines.push(...renderLayerRows(rows, r.skipped));
  lines.push('');
  const s = r.sizes;
  lines.push(`Size: ${bytes(s.sourceBytes)} → ${bytes(s.outputBytes)} dense (${s.zeros} of ${s.weights} pruned-layer weights are 0); about ${bytes(s.compressedEstimateBytes)} with a bitmask and the nonzero values`);
  lines.push(`Latency: ${r.latencyNote}`);
  const t = r.seconds;
  lines.push(`Time: ${t.total.toFixed(2)} s (calibration ${t.calibration.toFixed(2)}, pruning ${t.pruning.toFixed(2)}, write ${t.write.toFixed(2)}, validation ${t.validation.toFixed(2)}); ONNX Runtime ${r.runtimeVersion}`);
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}
