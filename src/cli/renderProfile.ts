import type { ModelProfile } from '../protocol/workerProtocol';

function e(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : v.toExponential(2);
}

/** Renders a whole-model profile: the layers ranked by sensitivity, with their activation outliers. */
export function renderProfile(p: ModelProfile): string {
  const c = p.calibration;
  const head = ['rank', 'layer', 'd', 'act.absmax', `>=${c.threshold}`, `>${c.scaleFreeFactor}xmed`, 'difficulty', 'tr(H)/d', 'int8/ch', 'int4 g128', 'int4/ch', '2:4'];
  const err = (l: ModelProfile['layers'][number], id: string): string => e(l.sensitivity?.candidates.find((x) => x.id === id)?.relativeError);
  const rows = p.layers.map((l) => [
    l.rank ? String(l.rank) : '-', l.layer, String(l.d), Math.max(...l.absmax).toFixed(3), String(l.outliers.int8), String(l.outliers.scaleFree),
    l.difficulty === null ? '-' : l.difficulty.toFixed(1), e(l.traceOverD), err(l, 'int8-channel'), err(l, 'int4-g128'), err(l, 'int4-channel'), err(l, 'prune-2:4'),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((x, i) => (i === 1 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  const out = [
    `${p.path}: ${p.layers.length} layers calibrated on ${c.batches} batches in ${c.seconds.toFixed(1)} s${c.synthetic ? ' (SYNTHETIC inputs: generated from the declared shapes)' : ''}`,
    'Errors are tr(dW H dW^T) / tr(W H W^T), H = X^T X from calibration.',
    '',
    line(head),
    ...rows.map(line),
  ];
  if (c.skipped.length) out.push('', `${c.skipped.length} MatMul/Gemm nodes not tapped: ${c.skipped.slice(0, 5).map((s) => `${s.layer} (${s.reason})`).join(', ')}${c.skipped.length > 5 ? ', …' : ''}`);
  return out.join('\n') + '\n';
}
