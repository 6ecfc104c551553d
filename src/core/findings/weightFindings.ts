import type { Finding, FindingFix, FindingThresholds } from '../../protocol/findingTypes';
import type { TensorProfile } from '../../protocol/workerProtocol';
import { channelList, db, fixLabel, num } from './findingText';

/** log10 of the smallest normal number of the element types whose denormals are worth naming. */
const SMALLEST_NORMAL_LOG10: Readonly<Record<string, number>> = {
  F32: Math.log10(1.1754943508222875e-38),
  BF16: Math.log10(1.1754943508222875e-38),
  F16: Math.log10(6.103515625e-5),
  F64: Math.log10(2.2250738585072014e-308),
};

/** What a finding about a weight tensor starts from. */
type Base = Pick<Finding, 'layer' | 'tensor'>;

function finding(base: Base, f: Omit<Finding, 'id' | 'layer' | 'tensor' | 'alternatives' | 'advice'> & { readonly alternatives?: readonly FindingFix[]; readonly advice?: string }): Finding {
  return { id: `${f.kind}:${base.layer}`, ...base, ...f, alternatives: f.alternatives ?? [], advice: f.advice ?? (f.fix ? fixLabel(f.fix) : '') };
}

function percent(x: number): string {
  return `${num(x * 100)}%`;
}

/** Channels whose absmax is at most `fraction` of the median channel's (0 counts as dead whatever the median). */
function deadChannels(absmax: readonly number[], median: number, fraction: number): number[] {
  const limit = median * fraction;
  const out: number[] = [];
  for (let j = 0; j < absmax.length; j++) if (absmax[j] === 0 || absmax[j] <= limit) out.push(j);
  return out;
}

/**
 * What the weight statistics of one tensor say: NaN or Inf, denormals, dead channels, outlier
 * channels or heavy tails, and (when `int4FromWeights`, i.e. no calibration measured the layer)
 * an INT4 g128 weight SQNR too low to keep.
 */
export function weightFindings(t: TensorProfile, thresholds: FindingThresholds, int4FromWeights: boolean): Finding[] {
  const s = t.stats;
  if (!s) return [];
  const base: Base = { layer: t.layer ?? t.name, tensor: t.name };
  const out: Finding[] = [];
  const nan = s.nanFraction ?? 0, inf = s.infFraction ?? 0;
  if (nan > 0 || inf > 0) {
    out.push(finding(base, {
      kind: 'non-finite', severity: 'error',
      message: `${t.name} holds non-finite values: NaN ${percent(nan)}, Inf ${percent(inf)} of ${s.count} elements; every quantizer's scale would be NaN or Inf`,
      evidence: { nanFraction: nan, infFraction: inf, count: s.count },
      fix: null, advice: 'Repair the checkpoint: no transform makes NaN or Inf weights usable',
    }));
  }
  const normal = SMALLEST_NORMAL_LOG10[t.dtype];
  const lh = s.logHistogram;
  if (normal !== undefined && lh && lh.edges.length && lh.edges[0] < normal) {
    let below = 0;
    for (let i = 0; i < lh.counts.length; i++) if (lh.edges[i] < normal) below += lh.counts[i];
    out.push(finding(base, {
      kind: 'denormals', severity: 'info',
      message: `${t.name} has denormal ${t.dtype} values: the smallest |x| is ${num(10 ** lh.edges[0])}, below the smallest normal ${num(10 ** normal)}; up to ${below} values lie in histogram bins below it`,
      evidence: { smallestAbs: 10 ** lh.edges[0], smallestNormal: 10 ** normal, upTo: below },
      fix: null, advice: 'Flush them to zero before export: denormals are slow on many CPUs and round to 0 in any INT format',
    }));
  }
  const ch = s.channels;
  if (!ch) return out;
  const inputAbsmax = ch.input.absmax;
  if (inputAbsmax?.length) {
    const dead = deadChannels(inputAbsmax, ch.input.median, thresholds.deadFraction);
    if (dead.length) {
      out.push(finding(base, {
        kind: 'dead-channels', severity: 'info',
        message: `${dead.length} of ${inputAbsmax.length} input channels of ${t.name} are dead or near zero (absmax ≤ ${num(thresholds.deadFraction)} × median ${num(ch.input.median)}): ${channelList(dead)}`,
        evidence: { channels: dead, count: dead.length, of: inputAbsmax.length, median: ch.input.median },
        fix: null, advice: 'They cost nothing to quantize; check whether the checkpoint was pruned or a channel collapsed in training',
      }));
    }
  }
  const q = (scheme: string): number | null => s.quantization.find((x) => x.scheme === scheme)?.sqnrDb ?? null;
  const perTensor = q('int8-per-tensor'), perChannel = q('int8-per-channel'), int4 = q('int4-group-sym');
  const spreadIn = ch.input.maxOverMedian, spreadOut = ch.output.maxOverMedian;
  const kurtosis = s.kurtosis;
  const wideIn = spreadIn !== null && spreadIn > thresholds.weightFactor, wideOut = spreadOut !== null && spreadOut > thresholds.weightFactor;
  const heavy = kurtosis !== null && kurtosis > thresholds.kurtosis;
  if (wideIn || wideOut || heavy) {
    // Per-channel scales follow the output channels; an outlier input column needs groups along the input axis.
    const groupWise = wideIn && !wideOut && int4 !== null && int4 >= thresholds.int4MinSqnrDb;
    const fix: FindingFix = groupWise ? { kind: 'int4-g128' } : { kind: 'int8-channel' };
    const what = [
      wideOut ? `output channels max/median ${num(spreadOut)}` : '',
      wideIn ? `input channels max/median ${num(spreadIn)} (top ${channelList(ch.input.top.slice(0, 4).map((c) => c.index))})` : '',
      heavy ? `kurtosis ${num(kurtosis)}` : '',
    ].filter(Boolean).join(', ');
    out.push(finding(base, {
      kind: 'weight-outliers', severity: 'warning',
      message: `${t.name} has outlier weights: ${what}; INT8 per-tensor SQNR ${db(perTensor)} vs per-channel ${db(perChannel)}, INT4 g128 ${db(int4)}`,
      evidence: { inputMaxOverMedian: spreadIn, outputMaxOverMedian: spreadOut, kurtosis, int8PerTensorSqnrDb: perTensor, int8PerChannelSqnrDb: perChannel, int4G128SqnrDb: int4 },
      fix, alternatives: groupWise ? [{ kind: 'int8-channel' }] : [],
      advice: groupWise ? 'Group-wise scales (INT4 g128) instead of per-tensor' : 'Per-channel scales (INT8 per-channel) instead of per-tensor',
    }));
  }
  if (int4FromWeights && int4 !== null && int4 < thresholds.int4MinSqnrDb) {
    out.push(finding(base, {
      kind: 'int4-error', severity: 'warning',
      message: `INT4 g128 keeps only ${db(int4)} SQNR on ${t.name} (below ${db(thresholds.int4MinSqnrDb)}); INT8 per-channel keeps ${db(perChannel)}`,
      evidence: { int4G128SqnrDb: int4, int8PerChannelSqnrDb: perChannel, minSqnrDb: thresholds.int4MinSqnrDb },
      fix: { kind: 'int8-channel' }, advice: 'Keep this layer INT8',
    }));
  }
  return out;
}
