import { fixLabel } from '../core/findings/findingText';
import type { FindingsReport } from '../protocol/findingTypes';

/** Renders findings: a head line, then per finding its severity, layer and kind, the evidence and the fix. */
export function renderAdvice(r: FindingsReport): string {
  const counts = (['error', 'warning', 'info'] as const).map((s) => [s, r.findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  const basis = r.calibrated ? `weights and calibration${r.synthetic ? ' (SYNTHETIC inputs: generated from the declared shapes)' : ''}` : 'weight statistics only';
  const out = [`${r.path}: ${r.findings.length} findings${counts.length ? ` (${counts.map(([s, n]) => `${n} ${s}`).join(', ')})` : ''} from ${basis}`];
  for (const f of r.findings) {
    out.push('', `${f.severity.toUpperCase().padEnd(7)} ${f.layer}  [${f.kind}]`, `  evidence: ${f.message}`);
    // The advice names the fix in a sentence; a bare label only where there is no sentence.
    out.push(`  fix:      ${f.advice || (f.fix ? fixLabel(f.fix) : '-')}`);
    if (f.alternatives.length) out.push(`  or:       ${f.alternatives.map(fixLabel).join('; ')}`);
  }
  if (!r.findings.length) out.push('', 'Nothing stands out at these thresholds.');
  return out.join('\n') + '\n';
}
