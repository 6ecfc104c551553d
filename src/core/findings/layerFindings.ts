import type { Finding, FindingFix, FindingThresholds } from '../../protocol/findingTypes';
import type { LayerProfile } from '../../protocol/workerProtocol';
import { selectMedian } from './selectMedian';
import { channelList, fixLabel, num } from './findingText';
import { suggestAlpha } from './suggestAlpha';

function finding(l: LayerProfile, f: Omit<Finding, 'id' | 'layer' | 'tensor' | 'alternatives' | 'advice'> & { readonly alternatives?: readonly FindingFix[]; readonly advice?: string }): Finding {
  return { id: `${f.kind}:${l.layer}`, layer: l.layer, tensor: l.weight, ...f, alternatives: f.alternatives ?? [], advice: f.advice ?? (f.fix ? fixLabel(f.fix) : '') };
}

/** The relative error of a sensitivity candidate, or null. */
function errorOf(l: LayerProfile, id: string): number | null {
  return l.sensitivity?.candidates.find((c) => c.id === id)?.relativeError ?? null;
}

/** A threshold just below `x` (three significant digits, rounded down) so that a channel of absmax x reaches it. */
function thresholdBelow(x: number): number {
  const p = 10 ** (Math.floor(Math.log10(x)) - 2);
  return Math.floor(x / p) * p;
}

/**
 * Activation outliers of one calibrated layer, by LLM.int8()'s magnitude and by the scale-free
 * criterion. Few outlier channels: LLM.int8() keeps exactly them in float. More: SmoothQuant with
 * the α the measured channel absmax of activation and weight (`weightInputAbsmax`) suggest.
 */
export function activationFindings(l: LayerProfile, weightInputAbsmax: readonly number[] | undefined, t: FindingThresholds): Finding[] {
  const d = l.absmax.length;
  if (!d) return [];
  const median = selectMedian(new Float64Array(l.absmax));
  const byMagnitude: number[] = [], byFactor: number[] = [];
  for (let j = 0; j < d; j++) {
    if (l.absmax[j] >= t.activationMagnitude) byMagnitude.push(j);
    if (median > 0 && l.absmax[j] > t.activationFactor * median) byFactor.push(j);
  }
  const channels = [...new Set([...byMagnitude, ...byFactor])].sort((a, b) => l.absmax[b] - l.absmax[a] || a - b);
  if (!channels.length) return [];
  let maxAbs = 0;
  for (const a of l.absmax) if (a > maxAbs) maxAbs = a;
  const difficulty = median > 0 ? maxAbs / median : null;
  const few = channels.length <= Math.max(1, Math.floor(t.llmInt8MaxFraction * d));
  const smallest = Math.min(...channels.map((j) => l.absmax[j]));
  const llmint8: FindingFix = { kind: 'llmint8', threshold: thresholdBelow(smallest) };
  const alpha = weightInputAbsmax && weightInputAbsmax.length === d ? suggestAlpha(l.absmax, weightInputAbsmax, t.activationFactor) : undefined;
  const smooth: FindingFix = { kind: 'smoothquant', alpha: alpha?.alpha ?? 0.5 };
  const fix = few ? llmint8 : smooth;
  const after = alpha ? `; at α = ${alpha.alpha} the smoothed activation's difficulty is ${num(alpha.activationDifficulty)} and the weight's ${num(alpha.weightDifficulty)}` : '';
  return [finding(l, {
    kind: 'activation-outliers', severity: 'warning',
    message: `${channels.length} of ${d} input channels of ${l.layer} are activation outliers (${byMagnitude.length} with absmax ≥ ${num(t.activationMagnitude)}, ${byFactor.length} above ${num(t.activationFactor)} × median ${num(median)}): ${channelList(channels)}; difficulty max/median ${num(difficulty)}${after}`,
    evidence: {
      channels, d, atMagnitude: byMagnitude.length, aboveFactor: byFactor.length, median, difficulty,
      maxAbs, alpha: alpha?.alpha ?? null, activationDifficultyAfter: alpha?.activationDifficulty ?? null, weightDifficultyAfter: alpha?.weightDifficulty ?? null,
    },
    fix, alternatives: [few ? smooth : llmint8],
    advice: few ? `${channels.length} channels carry the outliers: keep them in float with LLM.int8() (threshold ${num(llmint8.threshold)}), the rest INT8` : `Migrate the difficulty into the weights with SmoothQuant (α = ${smooth.alpha}), then INT8 W8A8`,
  })];
}

/**
 * What each layer's Hessian sensitivity says: INT4 g128 too costly (keep INT8), the `sensitiveTopK`
 * most sensitive layers (keep higher precision), and insensitive ones (INT4, or 2:4 when it is cheap).
 */
export function sensitivityFindings(layers: readonly LayerProfile[], t: FindingThresholds): Finding[] {
  const out: Finding[] = [];
  const ranked = layers.filter((l) => l.sensitivity && l.rank !== undefined);
  const topK = ranked.length > t.sensitiveTopK ? t.sensitiveTopK : 0;
  for (const l of ranked) {
    const int8 = errorOf(l, 'int8-channel'), int4 = errorOf(l, 'int4-g128'), int4ch = errorOf(l, 'int4-channel'), prune = errorOf(l, 'prune-2:4');
    if (int4 === null) continue;
    const figures = { int8ChannelError: int8, int4G128Error: int4, int4ChannelError: int4ch, prune24Error: prune, rank: l.rank ?? null, layers: ranked.length };
    const tooCostly = int4 > t.int4MaxError;
    if (tooCostly) {
      out.push(finding(l, {
        kind: 'int4-error', severity: 'warning',
        message: `INT4 g128 costs ${l.layer} a relative output error of ${num(int4)} (above ${num(t.int4MaxError)}); INT8 per-channel costs ${num(int8)}`,
        evidence: { ...figures, maxError: t.int4MaxError },
        fix: { kind: 'int8-channel' }, advice: 'Keep this layer INT8',
      }));
    }
    if ((l.rank ?? Infinity) <= topK) {
      const keepFloat = int8 !== null && int8 > t.int4MaxError;
      out.push(finding(l, {
        kind: 'sensitive', severity: 'info',
        message: `${l.layer} is the #${l.rank} most sensitive of ${ranked.length} layers: tr(ΔW H ΔWᵀ)/tr(W H Wᵀ) is ${num(int4)} at INT4 g128 and ${num(int8)} at INT8 per-channel`,
        evidence: figures,
        fix: keepFloat ? { kind: 'keep-float' } : { kind: 'int8-channel' },
        alternatives: keepFloat ? [] : [{ kind: 'keep-float' }],
        advice: keepFloat ? 'Keep this layer in float' : 'Keep this layer at higher precision: INT8 per-channel',
      }));
    } else if (!tooCostly && int4 <= t.insensitiveMaxError) {
      const cheapPrune = prune !== null && prune <= t.pruneMaxError;
      out.push(finding(l, {
        kind: 'insensitive', severity: 'info',
        message: `${l.layer} is insensitive: INT4 g128 costs a relative output error of ${num(int4)} (at most ${num(t.insensitiveMaxError)})${prune !== null ? `, 2:4 pruning ${num(prune)}` : ''}`,
        evidence: { ...figures, maxError: t.insensitiveMaxError },
        fix: { kind: 'int4-g128' }, alternatives: cheapPrune ? [{ kind: 'prune-2:4' }] : [],
        advice: cheapPrune ? `INT4 g128 (GPTQ), or 2:4 pruning at ${num(prune)}` : 'INT4 g128 via GPTQ',
      }));
    }
  }
  return out;
}
