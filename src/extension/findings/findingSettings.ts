import * as vscode from 'vscode';
import { DEFAULT_FINDING_THRESHOLDS } from '../../core/findings/findingThresholds';
import type { FindingThresholds } from '../../protocol/findingTypes';

/**
 * The thresholds from the user's settings: `quantscope.findings.<field>`, except the activation
 * magnitude, which is LLM.int8()'s `quantscope.outliers.magnitudeThreshold` that calibration counts by.
 */
export function findingThresholds(): FindingThresholds {
  const c = vscode.workspace.getConfiguration('quantscope');
  const out: Record<string, number> = {};
  for (const [field, fallback] of Object.entries(DEFAULT_FINDING_THRESHOLDS) as [string, number][]) {
    const v: unknown = field === 'activationMagnitude' ? c.get<number>('outliers.magnitudeThreshold', fallback) : c.get<number>(`findings.${field}`, fallback);
    // A hand-edited settings file may hold anything; a bad value falls back to the default.
    out[field] = typeof v === 'number' && Number.isFinite(v) && v >= 0 ? (field === 'sensitiveTopK' ? Math.floor(v) : v) : fallback;
  }
  return out as unknown as FindingThresholds;
}

/** True when a configuration change touches the thresholds. */
export function affectsFindings(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration('quantscope.findings') || e.affectsConfiguration('quantscope.outliers.magnitudeThreshold');
}
