import type { DecoderGraphInfo, ExportReport } from '../protocol/exportTypes';
import { bytes } from './renderOutputs';

/** The report of `quantscope export` as readable text. */
export function renderExport(r: ExportReport): string {
  const s = r.seconds;
  const kv = r.kvHeads === r.heads ? `${r.heads} heads` : `${r.heads} heads, ${r.kvHeads} KV heads`;
  return [
    `Exported ${r.family} decoder: ${r.source} → ${r.output}${r.dataFile ? ` (+ ${r.dataFile})` : ''}`,
    `  ${r.layers} layers, hidden ${r.hidden}, intermediate ${r.intermediate}, ${kv} of ${r.headDim}, vocabulary ${r.vocab}`,
    `  ${r.parameterCount.toLocaleString('en-US')} parameters from ${r.sourceFormat}; file ${bytes(r.fileBytes)}`,
    `  Time: ${s.total.toFixed(2)} s (build ${s.build.toFixed(2)}, save ${s.save.toFixed(2)}, load check ${s.load.toFixed(2)}); ONNX Runtime ${r.runtimeVersion} loads it`,
  ].join('\n') + '\n';
}

/** One line saying where a checkpoint's graph came from, for the transform reports. */
export function renderDecoderGraph(g: DecoderGraphInfo | undefined): string[] {
  if (!g) return [];
  return [g.cacheHit ? `Graph: the cached graph built from the checkpoint (${g.graph})` : `Graph: built from the checkpoint in ${g.buildSeconds.toFixed(2)} s and cached (${g.graph})`];
}
