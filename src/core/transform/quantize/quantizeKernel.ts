/**
 * The kernel every quantization method runs: each layer rounded (RTN or GPTQ) under its scheme
 * and written in the method's format, with SmoothQuant's group rewrite, LLM.int8()'s outlier
 * channels and a plan's per-layer precision where the method asks for them.
 */
import { INT8_OUTLIER_THRESHOLD, outlierChannels } from '../../onnx/rewrite/int8Decomposition';
import { activationQuant, ActivationQdq } from '../../onnx/rewrite/staticW8A8';
import { BLOCKED_DQ_OPSET } from '../../onnx/rewrite/weightOnlyQdq';
import { findWeightTargets, type WeightTarget } from '../../onnx/rewrite';
import { schemeOfChoice, type PlanChoice } from '../../quant/mixedPrecisionPlan';
import type { QuantScheme } from '../../quant/QuantScheme';
import { ScratchArrays } from '../../quant/ScratchArrays';
import type { AppliedPlan, LayerReport, QuantizeFormat, QuantizeParams, QuantizeReport, SmoothingReport, WeightRounding } from '../../../protocol/quantizeTypes';
import type { SkippedRewrite } from '../../../protocol/rewriteTypes';
import type { MethodKernel, TransformRun } from '../TransformMethod';
import { quantizeLayer, type LayerJob } from './quantizeLayer';
import { smoothGroup } from './smoothGroup';

/** A plan's decision, made before the layer loop. */
export interface PlanDecision {
  readonly choiceOf: ReadonlyMap<string, PlanChoice>;
  readonly applied: AppliedPlan;
  /** Weights the plan keeps in float: the stored average over the planned layers counts them at 32 bits. */
  readonly floatPlanned: number;
  /** Time spent planning (calibration and measuring), reported with calibration. */
  readonly seconds: number;
  readonly targets: readonly WeightTarget[];
  readonly skipped: readonly SkippedRewrite[];
  readonly progressStart: number;
}

/** What a quantization method decided from its parameters. */
export interface QuantizeSettings {
  readonly rounding: WeightRounding;
  /** The scheme of every layer; plans give each layer its own. */
  readonly scheme: QuantScheme;
  readonly format: QuantizeFormat;
  /** The group came from the default: a layer no wider than it gets one scale per row (the same codes, the smallest MatMulNBits block). */
  readonly fitGroup?: boolean;
  readonly actOrder?: boolean;
  readonly damping?: number;
  /** MatMulNBits' accuracy_level. */
  readonly accuracyLevel?: number;
  /** SmoothQuant's migration strength. */
  readonly smoothAlpha?: number;
  /** LLM.int8()'s outlier threshold. */
  readonly outlierThreshold?: number;
  readonly plan?: PlanDecision;
  /** The method's own fields of the model's `quantscope.quantize` metadata. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * A group of `groupSize` over no more inputs is one scale per row, i.e. per-channel with the same
 * codes; written per-channel, MatMulNBits takes the smallest block that covers the row instead of
 * padding every row to the group.
 */
export function fitScheme(scheme: QuantScheme | null, inFeatures: number): QuantScheme | null {
  if (scheme?.granularity === 'group' && scheme.groupSize !== undefined && inFeatures <= scheme.groupSize) return { bits: scheme.bits, symmetric: scheme.symmetric, granularity: 'channel' };
  return scheme;
}

/** The largest entry: the per-tensor absmax of an activation from its channel absmax. */
function maxOf(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/** Starts the quantization kernel of `run` with the method's `settings`. */
export function quantizeKernel(run: TransformRun<QuantizeParams>, s: QuantizeSettings): MethodKernel<LayerReport, QuantizeReport> {
  const { model, names, params } = run;
  const opset = run.source.opsetVersion() ?? 1;
  if (s.format === 'qdq' && s.scheme.granularity === 'group' && s.scheme.bits !== 4 && opset < BLOCKED_DQ_OPSET) {
    throw new RangeError(`grouped ${s.scheme.bits}-bit QDQ needs blocked DequantizeLinear (opset ${BLOCKED_DQ_OPSET}); this model imports opset ${opset}. Use per-channel scales, or 4 bits (written as MatMulNBits)`);
  }
  const activations = new ActivationQdq(model, names);
  const smoothing: SmoothingReport[] = [];
  const threshold = s.outlierThreshold ?? INT8_OUTLIER_THRESHOLD;
  const plan = s.plan;
  const scratch = new ScratchArrays();
  return {
    targets: plan?.targets,
    skipped: plan?.skipped,
    progressStart: plan?.progressStart,
    group: s.smoothAlpha === undefined ? undefined : (targets, stats) => {
      // SmoothQuant rewrites the group's activations and weights first; the kernels then see the
      // smoothed W·diag(s) with H and absmax of X·diag(1/s).
      const smoothed = smoothGroup(model, targets, stats, s.smoothAlpha ?? 0, names);
      smoothing.push(...smoothed.reports);
      return { stats: smoothed.stats, targets: new Map(findWeightTargets(model).targets.map((t) => [t.layer, t])), skipped: smoothed.skipped };
    },
    layer(target, h) {
      const choice = plan?.choiceOf.get(target.layer);
      const scheme = (choice ? fitScheme(schemeOfChoice(choice), target.inFeatures) : s.fitGroup ? fitScheme(s.scheme, target.inFeatures) : null) ?? s.scheme;
      const outliers = s.outlierThreshold !== undefined && h ? outlierChannels(h.absmax, threshold) : undefined;
      if (outliers && outliers.length === target.inFeatures) return { skip: `every input channel reaches the outlier threshold ${threshold}: kept in float` };
      let activation: LayerJob['activation'];
      if (s.format === 'static' && h) {
        // The static scale covers the channels that are quantized: all of X, or X's regular part.
        const out = new Set(outliers ?? []);
        activation = { quant: activationQuant(maxOf(h.absmax.filter((_, j) => !out.has(j)))), shared: activations };
      }
      const report = quantizeLayer(model, target, {
        rounding: s.rounding, format: choice ? 'qdq' : s.format, scheme,
        hessian: h?.hessian, calibrationRows: h?.rows, actOrder: s.actOrder, damping: s.damping, accuracyLevel: s.accuracyLevel,
        activation, outliers: outliers?.length ? outliers : undefined,
        names, isCancelled: run.ctx.isCancelled, scratch,
      });
      return { layer: choice ? { ...report, choice } : report };
    },
    metadata: (layers) => ({
      method: params.method, format: s.format, bits: plan ? null : params.bits, group: plan ? null : s.scheme.groupSize ?? null, symmetric: s.scheme.symmetric, layers: layers.length,
      ...s.metadata,
    }),
    report({ base, sizes, seconds }) {
      const { layers } = base;
      const quantizedWeights = layers.reduce((n, l) => n + l.weights, 0);
      const floatWeightBytes = layers.reduce((n, l) => n + l.beforeBytes, 0);
      const quantizedWeightBytes = layers.reduce((n, l) => n + l.afterBytes, 0);
      const warnings = [...base.warnings];
      const thin = layers.filter((l) => l.calibrationRows !== null && l.calibrationRows < l.inFeatures);
      if (thin.length) warnings.push(`${thin.length} layer(s) saw fewer calibration rows than inputs, so H is singular${s.rounding === 'gptq' ? ' and GPTQ can overfit it' : ''}; calibrate on more samples (first: ${thin[0].layer})`);
      if (s.outlierThreshold !== undefined && !layers.some((l) => l.kind === 'decomposed')) warnings.push(`no input channel reached the outlier threshold ${threshold}: every layer went to plain W8A8`);
      const report: QuantizeReport = {
        ...base,
        method: params.method,
        format: s.format,
        bits: plan ? Math.min(...layers.map((l) => l.bits)) : s.scheme.bits,
        group: plan ? null : s.scheme.groupSize ?? null,
        symmetric: s.scheme.symmetric,
        sizes: { ...sizes, quantizedWeights, floatWeightBytes, quantizedWeightBytes, bitsPerWeight: quantizedWeights ? (quantizedWeightBytes * 8) / quantizedWeights : 0 },
        seconds: { calibration: seconds.calibration + (plan?.seconds ?? 0), quantization: seconds.kernel, write: seconds.write, validation: seconds.validation, total: seconds.total },
        weightRounding: s.rounding,
        smoothing: smoothing.length ? smoothing : undefined,
        threshold: s.outlierThreshold === undefined ? undefined : threshold,
        plan: plan ? { ...plan.applied, storedBitsPerWeight: (quantizedWeightBytes * 8 + plan.floatPlanned * 32) / (quantizedWeights + plan.floatPlanned) } : undefined,
        warnings,
      };
      return report;
    },
  };
}
