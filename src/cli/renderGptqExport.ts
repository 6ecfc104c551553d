import type { GptqExportReport } from '../protocol/gptqExportTypes';
import { renderDecoderGraph } from './renderExport';
import { bytes } from './renderOutputs';

/** The report of `quantscope quantize --to safetensors-gptq` as readable text. */
export function renderGptqExport(r: GptqExportReport): string {
  const group = r.groupSize === -1 ? 'per channel' : `group ${r.groupSize}`;
  const errors = r.layers.flatMap((l) => (l.relativeError === undefined ? [] : [l.relativeError]));
  const rtn = r.layers.filter((l) => l.rounding === 'rtn').length;
  const s = r.seconds;
  return [
    `Wrote GPTQ safetensors (${r.bits}-bit, ${group}, ${r.symmetric ? 'symmetric' : 'asymmetric'}${r.actOrder ? ', act-order' : ''}): ${r.source} → ${r.output}`,
    `  ${r.layers.length} projections packed (${r.layers.length - rtn} GPTQ, ${rtn} RTN), ${r.copiedTensors} tensors copied; ${bytes(r.sourceBytes)} → ${bytes(r.outputBytes)}`,
    ...(errors.length ? [`  Relative layer error tr(ΔW H ΔWᵀ)/tr(W H Wᵀ): mean ${(errors.reduce((a, b) => a + b, 0) / errors.length).toExponential(2)}, max ${Math.max(...errors).toExponential(2)} over ${r.calibrationBatches} calibration batches${r.calibrationSynthetic ? ' of generated tokens' : ''}`] : []),
    ...renderDecoderGraph(r.decoder).map((l) => `  ${l}`),
    `  Files: ${r.files.join(', ')}`,
    `  Time: ${s.total.toFixed(2)} s (quantize ${s.calibrateAndQuantize.toFixed(2)}, write ${s.write.toFixed(2)})`,
  ].join('\n') + '\n';
}
