import type { FindingThresholds } from '../../protocol/findingTypes';

/**
 * The default thresholds. The activation criteria are the papers': LLM.int8() calls a feature an
 * outlier at magnitude 6, and a channel 20× the median is the scale-free reading of the same idea.
 * The error thresholds are relative output errors tr(ΔW H ΔWᵀ)/tr(W H Wᵀ): 0.05 is about 13 dB,
 * what INT4 g128 costs a layer with outliers, where a Gaussian weight costs about 0.01.
 */
export const DEFAULT_FINDING_THRESHOLDS: FindingThresholds = {
  activationMagnitude: 6,
  activationFactor: 20,
  llmInt8MaxFraction: 0.02,
  weightFactor: 20,
  kurtosis: 10,
  int4MaxError: 0.05,
  int4MinSqnrDb: 13,
  sensitiveTopK: 3,
  insensitiveMaxError: 0.005,
  pruneMaxError: 0.02,
  deadFraction: 1e-4,
};

/** One line per threshold for help texts and settings: what it means, by field. */
export const FINDING_THRESHOLD_HELP: Readonly<Record<keyof FindingThresholds, string>> = {
  activationMagnitude: 'Activation channel absmax counted as an LLM.int8() outlier',
  activationFactor: 'Activation channel absmax above this multiple of the median counts as an outlier',
  llmInt8MaxFraction: 'Recommend LLM.int8() over SmoothQuant when outliers are at most this fraction of the channels',
  weightFactor: 'Weight channel max/median absmax above which a weight has outlier channels',
  kurtosis: 'Weight kurtosis above which a weight is heavy-tailed (normal: 3)',
  int4MaxError: 'INT4 g128 relative output error above which a layer should stay INT8',
  int4MinSqnrDb: 'Without calibration: INT4 g128 weight SQNR (dB) below which a layer should stay INT8',
  sensitiveTopK: 'How many of the most sensitive layers to keep at higher precision',
  insensitiveMaxError: 'INT4 g128 relative output error at or below which a layer is insensitive',
  pruneMaxError: '2:4 pruning relative output error at or below which an insensitive layer is offered 2:4',
  deadFraction: 'Channel absmax at or below this fraction of the median marks a dead channel',
};

/** The defaults with the given overrides; every value must be a finite number ≥ 0 (k a whole number). */
export function resolveThresholds(given: Partial<FindingThresholds> = {}): FindingThresholds {
  const out: Record<string, number> = { ...DEFAULT_FINDING_THRESHOLDS };
  for (const [k, v] of Object.entries(given)) {
    if (!(k in DEFAULT_FINDING_THRESHOLDS)) throw new RangeError(`unknown finding threshold ${k}; known: ${Object.keys(DEFAULT_FINDING_THRESHOLDS).join(', ')}`);
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`finding threshold ${k} must be a number ≥ 0; got ${String(v)}`);
    if (k === 'sensitiveTopK' && !Number.isInteger(v)) throw new RangeError(`finding threshold sensitiveTopK must be a whole number; got ${v}`);
    out[k] = v;
  }
  return out as unknown as FindingThresholds;
}
