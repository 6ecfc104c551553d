import type { QuantizeReport } from './quantizeTypes';

/** One line naming the method, scheme and output format of a report. */
export function describeMethod(r: QuantizeReport): string {
  const format = r.format === 'nbits' ? 'MatMulNBits' : r.format === 'dynamic' ? 'dynamic W8A8' : r.format === 'static' ? 'static W8A8 (QDQ)' : 'weight-only QDQ';
  const rounding = r.weightRounding.toUpperCase();
  switch (r.method) {
    case 'smoothquant': return `SmoothQuant (α ${r.smoothing?.[0]?.alpha ?? 0.5}) + ${rounding} INT8 per-channel, ${format}`;
    case 'llmint8': return `LLM.int8() decomposition (outliers ≥ ${r.threshold ?? 6} in float) + ${rounding} INT8 per-channel, ${format}`;
    case 'plan': return `Mixed-precision plan, ${rounding} weights`;
    default: return `${rounding} ${r.bits}-bit ${r.symmetric ? 'symmetric' : 'asymmetric'} ${r.group === null ? 'per-channel' : `group ${r.group}`}, ${format}`;
  }
}
