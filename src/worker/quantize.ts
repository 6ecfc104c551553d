/**
 * The quantize job: RTN, GPTQ, SmoothQuant, LLM.int8() decomposition or a mixed-precision plan,
 * written as weight-only QDQ, MatMulNBits, dynamic or static W8A8 into a new model file, checked
 * to load in ONNX Runtime, then validated against the original on held-out inputs.
 */
import { isCancelledError } from '../core/linalg/CancelledError';
import { OnnxModel } from '../core/onnx/OnnxModel';
import { findWeightTargets, NameAllocator, type SkippedRewrite, type WeightTarget } from '../core/onnx/rewrite';
import { INT8_OUTLIER_THRESHOLD, outlierChannels } from '../core/onnx/rewrite/int8Decomposition';
import { activationQuant, ActivationQdq } from '../core/onnx/rewrite/staticW8A8';
import { BLOCKED_DQ_OPSET } from '../core/onnx/rewrite/weightOnlyQdq';
import { isPlanChoice, PLAN_CHOICES, schemeOfChoice, type PlanChoice } from '../core/quant/mixedPrecisionPlan';
import type { QuantScheme } from '../core/quant/QuantScheme';
import { checkSmoothAlpha, DEFAULT_SMOOTH_ALPHA } from '../core/quant/smoothQuant';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { finishTransform, inputWarnings, transformOutput } from './finishTransform';
import { calibrateGroup, calibrationGroups, DEFAULT_HESSIAN_BUDGET, inputBatches, selectTargets, type LayerHessian } from './layerCalibration';
import { runtimeVersion } from './ort';
import { planLayers } from './planQuantization';
import { quantizeLayer, type LayerJob } from './quantizeLayer';
import { smoothGroup } from './smoothGroup';
import type { AppliedPlan, LayerReport, QuantizeFormat, QuantizeParams, QuantizeReport, SmoothingReport, WeightRounding } from '../protocol/quantizeTypes';

const METHODS = ['rtn', 'gptq', 'smoothquant', 'llmint8', 'plan'] as const;
const FORMATS = ['qdq', 'nbits', 'dynamic', 'static'] as const;

/** What a job's parameters come to once checked: how weights are rounded, the scheme, the format. */
export interface ResolvedMethod {
  readonly rounding: WeightRounding;
  /** The scheme of every layer; plans give each layer its own. */
  readonly scheme: QuantScheme;
  readonly format: QuantizeFormat;
  /** The activations' absmax is needed (static W8A8, SmoothQuant, LLM.int8()). */
  readonly needsActivations: boolean;
}

/** The method, scheme and format the parameters ask for, refusing combinations no output can hold. */
export function resolveMethod(params: QuantizeParams): ResolvedMethod {
  const { bits, group, format, method } = params;
  if (!METHODS.includes(method)) throw new RangeError(`method must be ${METHODS.join(', ')}; got ${String(method)}`);
  if (!FORMATS.includes(format)) throw new RangeError(`format must be ${FORMATS.join(', ')}; got ${String(format)}`);
  if (group !== undefined && (!Number.isInteger(group) || group < 1)) throw new RangeError(`group must be a positive integer; got ${group}`);
  if (params.damping !== undefined && !(params.damping >= 0)) throw new RangeError(`damping must be a number ≥ 0; got ${params.damping}`);
  const rounding: WeightRounding = method === 'gptq' ? 'gptq' : method === 'rtn' ? 'rtn' : params.weights ?? 'rtn';
  if (rounding !== 'rtn' && rounding !== 'gptq') throw new RangeError(`weights must be rtn or gptq; got ${String(rounding)}`);
  const symmetric = params.symmetric ?? true;
  if (method === 'plan') {
    if (!params.plan && !params.budget) throw new RangeError('a mixed-precision plan needs a budget (bits per weight or summed error) or an edited plan');
    if (params.budget?.kind === 'bits' && !(params.budget.bitsPerWeight > 0)) throw new RangeError(`the bits budget must be a positive number of bits per weight; got ${params.budget.bitsPerWeight}`);
    if (params.budget?.kind === 'error' && !(params.budget.maxError >= 0)) throw new RangeError(`the error budget must be ≥ 0; got ${params.budget.maxError}`);
    return { rounding, scheme: { bits: 8, symmetric: true, granularity: 'channel' }, format: 'qdq', needsActivations: false };
  }
  if (bits !== 3 && bits !== 4 && bits !== 8) throw new RangeError(`bits must be 8, 4 or 3; got ${String(bits)}`);
  if (method === 'smoothquant' || method === 'llmint8') {
    const name = method === 'smoothquant' ? 'SmoothQuant' : 'LLM.int8()';
    if (bits !== 8) throw new RangeError(`${name} writes INT8 weights and activations (W8A8); got ${bits} bits`);
    if (format !== 'static' && format !== 'dynamic') throw new RangeError(`${name} writes W8A8: use --format static or dynamic, not ${format}`);
    if (group !== undefined) throw new RangeError(`${name} uses one scale per output channel; drop the group size`);
    if (params.alpha !== undefined) checkSmoothAlpha(params.alpha);
    if (params.threshold !== undefined && !(params.threshold > 0)) throw new RangeError(`the outlier threshold must be > 0; got ${params.threshold}`);
    return { rounding, scheme: { bits: 8, symmetric: true, granularity: 'channel' }, format, needsActivations: true };
  }
  if (format === 'nbits' && bits !== 4) throw new RangeError(`the nbits format (MatMulNBits) stores 4-bit weights only; got ${bits} bits (use --format qdq for 8 or 3 bits)`);
  if ((format === 'dynamic' || format === 'static') && bits !== 8) throw new RangeError(`the ${format} format is W8A8: it needs 8-bit weights; got ${bits} bits`);
  if ((format === 'dynamic' || format === 'static') && group !== undefined) throw new RangeError(`the ${format} format has one scale per output channel; drop the group size`);
  const scheme: QuantScheme = group === undefined ? { bits, symmetric, granularity: 'channel' } : { bits, symmetric, granularity: 'group', groupSize: group };
  return { rounding, scheme, format, needsActivations: format === 'static' };
}

/** The file name suffix of a default output: `q4`, `q8`, `w8a8`, `sq-w8a8`, `int8mix`, `mixed`. */
function suffixFor(params: QuantizeParams): string {
  switch (params.method) {
    case 'smoothquant': return `sq-w8a8${params.format === 'static' ? 's' : ''}`;
    case 'llmint8': return 'int8mix';
    case 'plan': return 'mixed';
    default: return params.format === 'dynamic' ? `w${params.bits}a8` : params.format === 'static' ? `w${params.bits}a8s` : `q${params.bits}`;
  }
}

/**
 * A plan choice's scheme for a layer with `inFeatures` inputs. A group of 128 over fewer inputs is
 * one scale per row, i.e. per-channel with the same codes; written per-channel, MatMulNBits takes
 * the smallest block that covers the row instead of padding every row to 128.
 */
function layerScheme(choice: PlanChoice, inFeatures: number): QuantScheme | null {
  const scheme = schemeOfChoice(choice);
  if (scheme?.granularity === 'group' && scheme.groupSize !== undefined && inFeatures <= scheme.groupSize) return { bits: scheme.bits, symmetric: scheme.symmetric, granularity: 'channel' };
  return scheme;
}

/** The largest entry: the per-tensor absmax of an activation from its channel absmax. */
function maxOf(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/**
 * Quantizes the selected MatMul/Gemm weights of `params.path` and writes a new model (never the
 * source, never an existing file unless `overwrite`). Calibration (ONNX Runtime taps: H = XᵀX and
 * the channel absmax per layer) runs when the method needs it, in layer groups whose Hessians fit
 * the memory budget. The output must load in ONNX Runtime, else it is deleted and the job fails.
 * Cancellation stops between layers, GPTQ blocks, write chunks and validation batches, and
 * deletes the output.
 */
export async function quantizeModel(params: QuantizeParams, ctx: JobContext): Promise<QuantizeReport> {
  const t0 = performance.now();
  const resolved = resolveMethod(params);
  const output = transformOutput(params, suffixFor(params));
  const source = await OnnxModel.load(params.path);
  const opset = source.opsetVersion() ?? 1;
  if (params.format === 'qdq' && resolved.scheme.granularity === 'group' && resolved.scheme.bits !== 4 && opset < BLOCKED_DQ_OPSET) {
    throw new RangeError(`grouped ${resolved.scheme.bits}-bit QDQ needs blocked DequantizeLinear (opset ${BLOCKED_DQ_OPSET}); this model imports opset ${opset}. Use per-channel scales, or 4 bits (written as MatMulNBits)`);
  }
  // Targets are nodes of the copy that is rewritten; calibration reads the untouched source.
  const model = source.clone();
  const selected = selectTargets(model, params.layers);
  if (!selected.targets.length) throw new RangeError('no MatMul or Gemm with a constant 2-D float weight to quantize');
  const skippedAll: SkippedRewrite[] = [...selected.skipped];
  let targets = selected.targets;

  // A plan decides each layer's scheme first; layers it leaves in float are not touched.
  let applied: AppliedPlan | undefined;
  let planSeconds = 0;
  const choiceOf = new Map<string, PlanChoice>();
  // Weights a plan keeps in float: the stored average over the planned layers counts them at 32 bits.
  let floatPlanned = 0;
  if (params.method === 'plan') {
    if (params.plan) {
      const known = new Set(targets.map((t) => t.layer));
      const unknown = Object.keys(params.plan).filter((l) => !known.has(l));
      if (unknown.length) throw new RangeError(`the plan names layers this model has no rewritable MatMul/Gemm for: ${unknown.slice(0, 5).join(', ')}`);
      const bad = Object.entries(params.plan).find(([, c]) => !isPlanChoice(c));
      if (bad) throw new RangeError(`the plan gives ${bad[0]} the precision "${String(bad[1])}"; use ${PLAN_CHOICES.join(', ')}`);
      for (const [layer, choice] of Object.entries(params.plan)) choiceOf.set(layer, choice);
      applied = { budget: params.budget ?? null, choices: { ...params.plan }, plannedError: null, plannedBitsPerWeight: null, note: 'plan given (edited or from a recipe)' };
    } else {
      const tp = performance.now();
      const planned = await planLayers(source, targets, { ...params, budget: params.budget ?? { kind: 'bits', bitsPerWeight: 8 } }, { ...ctx, progress: (m, f) => ctx.progress(`planning: ${m}`, f === undefined ? undefined : 0.3 * f) });
      planSeconds = (performance.now() - tp) / 1000;
      for (const l of planned.plan.layers) choiceOf.set(l.layer, l.choice);
      skippedAll.push(...planned.skipped);
      applied = { budget: params.budget ?? null, choices: Object.fromEntries(choiceOf), plannedError: planned.plan.totalError, plannedBitsPerWeight: planned.plan.bitsPerWeight, note: planned.plan.note };
    }
    for (const t of targets) {
      if ((choiceOf.get(t.layer) ?? 'float') !== 'float') continue;
      skippedAll.push({ layer: t.layer, reason: 'kept in float by the plan' });
      floatPlanned += t.inFeatures * t.outFeatures;
    }
    targets = targets.filter((t) => (choiceOf.get(t.layer) ?? 'float') !== 'float');
    if (!targets.length) throw new RangeError('the plan keeps every layer in float: nothing to quantize');
  }

  // Calibration: GPTQ needs H, W8A8 with static scales, SmoothQuant and LLM.int8() need the
  // activations' absmax; RTN takes H when asked, for the layer errors. Each group's Hessians are
  // dropped before the next: a large model never holds all of them at once.
  const needCalibration = resolved.rounding === 'gptq' || resolved.needsActivations || params.calibration !== undefined;
  const inputs = await inputBatches(source, params, needCalibration);
  const groups = calibrationGroups(source, targets, needCalibration && inputs.calib !== undefined, params.hessianBudgetBytes ?? DEFAULT_HESSIAN_BUDGET);
  let calibrationBatches = 0;
  let calibrationSeconds = 0;
  const tq = performance.now();
  const names = new NameAllocator(model);
  const activations = new ActivationQdq(model, names);
  const layers: LayerReport[] = [];
  const smoothing: SmoothingReport[] = [];
  const threshold = params.threshold ?? INT8_OUTLIER_THRESHOLD;
  const base = params.method === 'plan' && !params.plan ? 0.3 : 0;
  let done = 0;
  for (const group of groups) {
    const at = { done, total: targets.length };
    const { hessians, batches, seconds } = await calibrateGroup(source, group, inputs.calib, at, { ...ctx, progress: (m, f) => ctx.progress(m, f === undefined ? undefined : base + (1 - base / 0.7) * f) });
    if (batches !== undefined) calibrationBatches = batches;
    calibrationSeconds += seconds;
    let stats: ReadonlyMap<string, LayerHessian> = hessians;
    // SmoothQuant rewrites the group's activations and weights first; the kernels then see the
    // smoothed W·diag(s) with H and absmax of X·diag(1/s).
    let current = new Map(targets.map((t) => [t.layer, t]));
    if (params.method === 'smoothquant') {
      const groupTargets = group.layers.flatMap((l) => current.get(l) ?? []);
      const smoothed = smoothGroup(model, groupTargets, hessians, params.alpha ?? DEFAULT_SMOOTH_ALPHA, names);
      smoothing.push(...smoothed.reports);
      skippedAll.push(...smoothed.skipped);
      stats = smoothed.stats;
      current = new Map(findWeightTargets(model).targets.map((t) => [t.layer, t]));
    }
    for (const name of group.layers) {
      throwIfCancelled(ctx);
      const target: WeightTarget | undefined = current.get(name);
      if (!target) continue;
      ctx.progress(`quantizing ${target.layer}`, base + ((0.7 - base) * done++) / targets.length);
      const h = stats.get(target.layer);
      if (resolved.rounding === 'gptq' && !h) {
        skippedAll.push({ layer: target.layer, reason: 'calibration gave no Hessian for this layer' });
        continue;
      }
      if (resolved.needsActivations && !h) {
        skippedAll.push({ layer: target.layer, reason: 'calibration did not reach this layer, so its activation range is unknown' });
        continue;
      }
      const choice = choiceOf.get(target.layer);
      const scheme = choice ? layerScheme(choice, target.inFeatures) ?? resolved.scheme : resolved.scheme;
      const outliers = params.method === 'llmint8' && h ? outlierChannels(h.absmax, threshold) : undefined;
      if (outliers && outliers.length === target.inFeatures) {
        skippedAll.push({ layer: target.layer, reason: `every input channel reaches the outlier threshold ${threshold}: kept in float` });
        continue;
      }
      let activation: LayerJob['activation'];
      if (resolved.format === 'static' && h) {
        // The static scale covers the channels that are quantized: all of X, or X's regular part.
        const out = new Set(outliers ?? []);
        const regularMax = maxOf(h.absmax.filter((_, j) => !out.has(j)));
        activation = { quant: activationQuant(regularMax), shared: activations };
      }
      try {
        const report = quantizeLayer(model, target, {
          rounding: resolved.rounding, format: choice ? 'qdq' : resolved.format, scheme,
          hessian: h?.hessian, calibrationRows: h?.rows, actOrder: params.actOrder, damping: params.damping,
          ...(activation ? { activation } : {}), ...(outliers?.length ? { outliers } : {}),
          names, isCancelled: ctx.isCancelled,
        });
        layers.push(choice ? { ...report, choice } : report);
      } catch (e) {
        if (isCancelledError(e)) throw new CancelledError();
        if (!(e instanceof RangeError)) throw e;
        skippedAll.push({ layer: target.layer, reason: e.message });
      }
    }
  }
  if (!layers.length) throw new RangeError(`no layer could be quantized: ${skippedAll.map((s) => `${s.layer}: ${s.reason}`).slice(0, 3).join('; ')}`);
  model.setMetadata('quantscope.quantize', JSON.stringify({
    method: params.method, format: resolved.format, bits: params.method === 'plan' ? null : params.bits, group: params.group ?? null, symmetric: resolved.scheme.symmetric, layers: layers.length,
    ...(params.method === 'plan' || params.method === 'smoothquant' || params.method === 'llmint8' ? { weights: resolved.rounding } : {}),
    ...(params.method === 'smoothquant' ? { alpha: params.alpha ?? DEFAULT_SMOOTH_ALPHA } : {}),
    ...(params.method === 'llmint8' ? { threshold } : {}),
    ...(applied ? { plan: applied.choices } : {}),
  }));
  const quantizationSeconds = (performance.now() - tq) / 1000 - calibrationSeconds;

  const finished = await finishTransform(model, { source: params.path, output, overwrite: params.overwrite, heldOut: inputs.heldOut, heldOutSynthetic: inputs.heldOutSynthetic, edited: 'quantized' }, ctx);

  const quantizedWeights = layers.reduce((s, l) => s + l.weights, 0);
  const floatWeightBytes = layers.reduce((s, l) => s + l.beforeBytes, 0);
  const quantizedWeightBytes = layers.reduce((s, l) => s + l.afterBytes, 0);
  const warnings = inputWarnings(calibrationBatches, inputs);
  const thin = layers.filter((l) => l.calibrationRows !== null && l.calibrationRows < l.inFeatures);
  if (thin.length) {
    warnings.push(`${thin.length} layer(s) saw fewer calibration rows than inputs, so H is singular${resolved.rounding === 'gptq' ? ' and GPTQ can overfit it' : ''}; calibrate on more samples (first: ${thin[0].layer})`);
  }
  if (params.method === 'llmint8' && !layers.some((l) => l.kind === 'decomposed')) {
    warnings.push(`no input channel reached the outlier threshold ${threshold}: every layer went to plain W8A8`);
  }
  ctx.progress('done', 1);
  return {
    source: params.path,
    output,
    method: params.method,
    format: resolved.format,
    bits: params.method === 'plan' ? Math.min(...layers.map((l) => l.bits)) : resolved.scheme.bits,
    group: params.method === 'plan' ? null : params.group ?? null,
    symmetric: resolved.scheme.symmetric,
    synthetic: calibrationBatches > 0 && inputs.calibSynthetic,
    calibrationBatches,
    layers,
    skipped: skippedAll,
    validation: finished.validation,
    sizes: {
      sourceBytes: finished.sourceBytes,
      outputBytes: finished.outputBytes,
      quantizedWeights,
      floatWeightBytes,
      quantizedWeightBytes,
      bitsPerWeight: quantizedWeights ? (quantizedWeightBytes * 8) / quantizedWeights : 0,
    },
    seconds: {
      calibration: calibrationSeconds + planSeconds,
      quantization: quantizationSeconds,
      write: finished.writeSeconds,
      validation: finished.validationSeconds,
      total: (performance.now() - t0) / 1000,
    },
    runtimeVersion: runtimeVersion(),
    weightRounding: resolved.rounding,
    ...(smoothing.length ? { smoothing } : {}),
    ...(params.method === 'llmint8' ? { threshold } : {}),
    ...(applied ? { plan: { ...applied, storedBitsPerWeight: (quantizedWeightBytes * 8 + floatPlanned * 32) / (quantizedWeights + floatPlanned) } } : {}),
    warnings,
  };
}
