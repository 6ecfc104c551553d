import type { PruneReport } from '../../protocol/pruneTypes';
import { formatReportNumber as e, outputErrorTable } from './renderReportMarkdown';

/** The pruning report as Markdown: sparsity, error, sizes, and what it does (not) do to latency. */
export function renderPruneMarkdown(r: PruneReport): string {
  const name = (p: string): string => p.split(/[\\/]/).pop() ?? p;
  const what = r.pattern ? `${r.pattern} (N:M along the input axis)` : `${((r.targetSparsity ?? 0) * 100).toFixed(0)}% unstructured${r.global ? ', global threshold' : ''}`;
  const out = [
    `# ${name(r.source)} → ${name(r.output)}`,
    '',
    `**${r.method} pruning, ${what}**${r.permuted ? ' with channel permutation' : ''} on ${r.layers.length} layers. ONNX Runtime ${r.runtimeVersion} loaded and ran the result.`,
    '',
    `> ${r.latencyNote}`,
    '',
    '## Size',
    '',
    `${r.sizes.zeros} of ${r.sizes.weights} weights in the pruned layers are zero. File: ${(r.sizes.sourceBytes / 1024).toFixed(1)} KiB → ${(r.sizes.outputBytes / 1024).toFixed(1)} KiB stored dense; about ${(r.sizes.compressedEstimateBytes / 1024).toFixed(1)} KiB as a bitmask plus the nonzero values.`,
    '',
    ...outputErrorTable(r.validation),
    '',
    '## Layers',
    '',
    '| layer | shape | sparsity | error tr(ΔW H ΔWᵀ)/tr(W H Wᵀ) | magnitude error | permutation |',
    '| --- | --- | ---: | ---: | ---: | --- |',
    ...r.layers.map((l) => `| ${l.layer} | ${l.inFeatures}×${l.outFeatures} | ${(l.sparsity * 100).toFixed(1)}% | ${e(l.relativeError)} | ${e(l.magnitudeRelativeError)} | ${l.permutation ? `${l.permutation.applied}, efficacy ${l.permutation.efficacy.toFixed(3)}${l.permutation.reason ? ` (${l.permutation.reason})` : ''}` : '–'} |`),
  ];
  if (r.skipped.length) out.push('', '## Not pruned', '', ...r.skipped.map((s) => `- ${s.layer}: ${s.reason}`));
  if (r.warnings.length) out.push('', '## Warnings', '', ...r.warnings.map((w) => `- ${w}`));
  out.push('', '## Time', '', `Calibration ${r.seconds.calibration.toFixed(2)} s, pruning ${r.seconds.pruning.toFixed(2)} s, writing ${r.seconds.write.toFixed(2)} s, validation ${r.seconds.validation.toFixed(2)} s; ${r.seconds.total.toFixed(2)} s in all.`);
  return out.join('\n') + '\n';
}
