import type { Finding, FindingsReport, FindingSeverity, FindingThresholds } from '../../protocol/findingTypes';
import type { ModelProfile, WeightProfile } from '../../protocol/workerProtocol';
import { resolveThresholds } from './findingThresholds';
import { activationFindings, sensitivityFindings } from './layerFindings';
import { sharedWeightFindings } from './sharedWeights';
import { weightFindings } from './weightFindings';

const SEVERITY_ORDER: Readonly<Record<FindingSeverity, number>> = { error: 0, warning: 1, info: 2 };

/** What findings are derived from: a weight profile, and a calibration when there is one. */
export interface FindingsInput {
  readonly weights: WeightProfile;
  /** The whole-model profile (activations and sensitivity); its weights win over `weights`. */
  readonly model?: ModelProfile;
  readonly thresholds?: Partial<FindingThresholds>;
}

/**
 * Every finding about a model: per-layer conclusions from its weight statistics and, when
 * present, its calibration, each with its figures and recommended fix. Pure: the same profile and
 * thresholds always give the same findings, most severe first, then in model order.
 */
export function deriveFindings(input: FindingsInput): FindingsReport {
  const thresholds = resolveThresholds(input.thresholds);
  const weights = input.model?.weights ?? input.weights;
  const layers = input.model?.layers ?? [];
  const measured = new Set(layers.filter((l) => l.sensitivity).map((l) => l.weight));
  const order = new Map<string, number>();
  const place = (name: string): void => void (order.has(name) || order.set(name, order.size));
  input.model?.activationHeatmap.layers.forEach(place);
  const byTensor = new Map(weights.tensors.map((t) => [t.name, t]));
  const findings: Finding[] = [];
  for (const t of weights.tensors) {
    place(t.layer ?? t.name);
    findings.push(...weightFindings(t, thresholds, !measured.has(t.name)));
  }
  for (const l of layers) {
    place(l.layer);
    findings.push(...activationFindings(l, byTensor.get(l.weight)?.stats?.channels?.input.absmax, thresholds));
  }
  findings.push(...sensitivityFindings(layers, thresholds));
  findings.push(...sharedWeightFindings(weights.shared ?? []));
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (order.get(a.layer) ?? Infinity) - (order.get(b.layer) ?? Infinity) || a.id.localeCompare(b.id));
  return { path: weights.path, calibrated: layers.length > 0, synthetic: input.model?.calibration.synthetic ?? false, thresholds, findings };
}
