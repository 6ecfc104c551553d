/**
 * The quantize job: RTN or GPTQ weights written as weight-only QDQ, MatMulNBits or dynamic W8A8
 * into a new model file, checked to load in ONNX Runtime, then validated against the original on
 * held-out inputs.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FormatError } from '../core/FormatError';
import { nextFreeName } from '../core/io/nextFreeName';
import { TargetExistsError } from '../core/io/atomicWrite';
import { isCancelledError } from '../core/linalg/CancelledError';
import { OnnxModel } from '../core/onnx/OnnxModel';
import { calibrationFiles, declaredInputs, SyntheticInputs, type Batch } from '../core/onnx/calibrationInputs';
import { buildCalibrationTaps, groupTapsByMemory } from '../core/onnx/calibrationTaps';
import { findWeightTargets, NameAllocator, type SkippedRewrite, type WeightTarget } from '../core/onnx/rewrite';
import { BLOCKED_DQ_OPSET } from '../core/onnx/rewrite/weightOnlyQdq';
import type { QuantScheme } from '../core/quant/QuantScheme';
import { calibrate } from './calibrate';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { finishTransform, inputWarnings } from './finishTransform';
import { runtimeVersion } from './ort';
import { quantizeLayer } from './quantizeLayer';
import type { LayerReport, QuantizeParams, QuantizeReport } from '../protocol/quantizeTypes';

/** Seed of the held-out inputs: far from calibration's default seed 0, so the two never coincide. */
const HELD_OUT_SEED = 7_919_731;

/** The scheme the parameters ask for, refusing combinations no output format can hold. */
export function schemeFor(params: QuantizeParams): QuantScheme {
  const { bits, group, format } = params;
  if (bits !== 3 && bits !== 4 && bits !== 8) throw new RangeError(`bits must be 8, 4 or 3; got ${String(bits)}`);
  if (format !== 'qdq' && format !== 'nbits' && format !== 'dynamic') throw new RangeError(`format must be qdq, nbits or dynamic; got ${String(format)}`);
  if (params.method !== 'rtn' && params.method !== 'gptq') throw new RangeError(`method must be rtn or gptq; got ${String(params.method)}`);
  if (format === 'nbits' && bits !== 4) throw new RangeError(`the nbits format (MatMulNBits) stores 4-bit weights only; got ${bits} bits (use --format qdq for 8 or 3 bits)`);
  if (format === 'dynamic' && group !== undefined) throw new RangeError('the dynamic format has one scale per output channel; drop the group size');
  if (group !== undefined && (!Number.isInteger(group) || group < 1)) throw new RangeError(`group must be a positive integer; got ${group}`);
  if (params.damping !== undefined && !(params.damping >= 0)) throw new RangeError(`damping must be a number ≥ 0; got ${params.damping}`);
  const symmetric = params.symmetric ?? true;
  return group === undefined ? { bits, symmetric, granularity: 'channel' } : { bits, symmetric, granularity: 'group', groupSize: group };
}

/** The file name suffix of a default output: `q4`, `q8`, `w8a8`, … */
function suffixFor(params: QuantizeParams): string {
  return params.format === 'dynamic' ? `w${params.bits}a8` : `q${params.bits}`;
}

/** The targets the parameters select; names may be layer (node) names or weight names. */
export function selectTargets(model: OnnxModel, layers: readonly string[] | undefined): { targets: WeightTarget[]; skipped: SkippedRewrite[] } {
  const found = findWeightTargets(model);
  if (!layers) return { targets: [...found.targets], skipped: [...found.skipped] };
  const wanted = new Set(layers);
  const targets = found.targets.filter((t) => wanted.has(t.layer) || wanted.has(t.weight));
  const known = new Set(found.targets.flatMap((t) => [t.layer, t.weight]));
  const unknown = layers.filter((l) => !known.has(l));
  if (unknown.length) throw new RangeError(`no MatMul/Gemm weight named ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`);
  return { targets, skipped: found.skipped.filter((s) => wanted.has(s.layer)) };
}

/** Calibration and held-out batches: from a file when given (its last batch held out), else generated with distinct seeds. */
export async function inputBatches(model: OnnxModel, params: QuantizeParams, needCalibration: boolean): Promise<{ calib: Batch[] | undefined; heldOut: Batch[]; calibSynthetic: boolean; heldOutSynthetic: boolean }> {
  const c = params.calibration ?? {};
  const batchSize = Math.max(1, c.batch ?? 1);
  const count = Math.max(1, Math.ceil((c.samples ?? 8) / batchSize));
  const shape = { batchSize, sequenceLength: c.sequenceLength ?? 128 };
  const specs = declaredInputs(model);
  const validationBatches = Math.max(1, params.validationBatches ?? 2);
  const generated = (seed: number, n: number): Batch[] => {
    const g = new SyntheticInputs(specs, { ...shape, seed });
    return Array.from({ length: n }, () => g.next());
  };
  if (c.file !== undefined) {
    const files = await calibrationFiles([c.file], specs);
    const all: Batch[] = [];
    for (let b = 0; b < files.count; b++) all.push(await files.load(b));
    if (all.length >= 2) return { calib: all.slice(0, -1).slice(0, count), heldOut: all.slice(-1), calibSynthetic: false, heldOutSynthetic: false };
    return { calib: all, heldOut: generated(HELD_OUT_SEED, validationBatches), calibSynthetic: false, heldOutSynthetic: true };
  }
  return { calib: needCalibration ? generated(0, count) : undefined, heldOut: generated(HELD_OUT_SEED, validationBatches), calibSynthetic: true, heldOutSynthetic: true };
}

/** Largest total size of the d×d Float64 Hessians held at once. */
export const DEFAULT_HESSIAN_BUDGET = 2 * 2 ** 30;

/** Layers processed together: calibrated in one pass (when `calibrate`), then quantized. */
export interface LayerGroup {
  readonly layers: readonly string[];
  readonly calibrate: boolean;
}

/**
 * Splits the targets into groups whose Hessians fit `budget` (layers reading the same activation
 * share one). Targets the taps cannot reach form a last group without calibration.
 */
export function calibrationGroups(source: OnnxModel, targets: readonly WeightTarget[], withH: boolean, budget: number): LayerGroup[] {
  const all = targets.map((t) => t.layer);
  if (!withH) return [{ layers: all, calibrate: false }];
  const wanted = new Set(all);
  const { taps } = buildCalibrationTaps(source, { include: (l) => wanted.has(l) });
  const groups: LayerGroup[] = groupTapsByMemory(taps, budget).map((layers) => ({ layers, calibrate: true }));
  const tapped = new Set(taps.map((t) => t.layer));
  const rest = all.filter((l) => !tapped.has(l));
  if (rest.length) groups.push({ layers: rest, calibrate: false });
  return groups;
}

/** A layer's Hessian H = XᵀX and the calibration rows it summed. */
export interface LayerHessian {
  readonly hessian: Float64Array;
  readonly rows: number;
}

/**
 * Calibrates one group's layers on `calib` when the group asks for it (else returns no Hessians),
 * reporting progress over the first half of the group's share of 0…0.7, after `at.done` of
 * `at.total` layers. `batches` is undefined when nothing was calibrated.
 */
export async function calibrateGroup(source: OnnxModel, group: LayerGroup, calib: Batch[] | undefined, at: { readonly done: number; readonly total: number }, ctx: JobContext): Promise<{ hessians: Map<string, LayerHessian>; batches: number | undefined; seconds: number }> {
  const hessians = new Map<string, LayerHessian>();
  if (!group.calibrate || !calib) return { hessians, batches: undefined, seconds: 0 };
  const tc = performance.now();
  const base = (0.7 * at.done) / at.total, span = (0.7 * group.layers.length) / at.total / 2;
  const cal = await calibrate(source, { feeds: calib, layers: group.layers }, {
    isCancelled: ctx.isCancelled,
    progress: (m, f) => ctx.progress(m, f === undefined ? undefined : base + span * f),
  });
  for (const l of cal.layers) hessians.set(l.layer, { hessian: l.hessian, rows: l.rows });
  return { hessians, batches: cal.batches, seconds: (performance.now() - tc) / 1000 };
}

export { removeOutput } from './finishTransform';

/**
 * Quantizes the selected MatMul/Gemm weights of `params.path` and writes a new model (never the
 * source, never an existing file unless `overwrite`). GPTQ calibrates first (ONNX Runtime taps,
 * H = XᵀX per layer); RTN calibrates only when `calibration` is given, to report layer errors.
 * The output must load in ONNX Runtime, else it is deleted and the job fails. Cancellation stops
 * between layers, GPTQ blocks, write chunks and validation batches, and deletes the output.
 */
export async function quantizeModel(params: QuantizeParams, ctx: JobContext): Promise<QuantizeReport> {
  const t0 = performance.now();
  const scheme = schemeFor(params);
  const output = params.output ?? nextFreeName(params.path, suffixFor(params));
  if (params.output !== undefined && !params.overwrite && existsSync(output)) {
    throw new TargetExistsError(`${output} already exists; choose another name or allow overwriting`);
  }
  const sourceBytes = await readFile(params.path).catch((e: unknown) => {
    throw new FormatError(`cannot read ${params.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  });
  const source = OnnxModel.fromBytes(sourceBytes, params.path);
  const opset = source.opsetVersion() ?? 1;
  if (params.format === 'qdq' && scheme.granularity === 'group' && params.bits !== 4 && opset < BLOCKED_DQ_OPSET) {
    throw new RangeError(`grouped ${params.bits}-bit QDQ needs blocked DequantizeLinear (opset ${BLOCKED_DQ_OPSET}); this model imports opset ${opset}. Use per-channel scales, or 4 bits (written as MatMulNBits)`);
  }
  // Targets are nodes of the copy that is rewritten; calibration reads the untouched source.
  const model = source.clone();
  const { targets, skipped } = selectTargets(model, params.layers);
  if (!targets.length) throw new RangeError('no MatMul or Gemm with a constant 2-D float weight to quantize');

  // Calibration: GPTQ needs H; RTN takes it when asked, for the layer errors. Layers are
  // calibrated and quantized in groups whose Hessians fit the memory budget, and each group's
  // Hessians are dropped before the next: a large model never holds all of them at once.
  const needH = params.method === 'gptq' || params.calibration !== undefined;
  const inputs = await inputBatches(source, params, needH);
  const groups = calibrationGroups(source, targets, needH && inputs.calib !== undefined, params.hessianBudgetBytes ?? DEFAULT_HESSIAN_BUDGET);
  let calibrationBatches = 0;
  let calibrationSeconds = 0;
  const tq = performance.now();
  const names = new NameAllocator(model);
  const layers: LayerReport[] = [];
  const skippedAll = [...skipped];
  const byLayer = new Map(targets.map((t) => [t.layer, t]));
  let done = 0;
  for (const group of groups) {
    const { hessians, batches, seconds } = await calibrateGroup(source, group, inputs.calib, { done, total: targets.length }, ctx);
    if (batches !== undefined) calibrationBatches = batches;
    calibrationSeconds += seconds;
    for (const name of group.layers) {
      throwIfCancelled(ctx);
      const target = byLayer.get(name);
      if (!target) continue;
      ctx.progress(`quantizing ${target.layer}`, (0.7 * done++) / targets.length);
      const h = hessians.get(target.layer);
      if (params.method === 'gptq' && !h) {
        skippedAll.push({ layer: target.layer, reason: 'calibration gave no Hessian for this layer' });
        continue;
      }
      try {
        layers.push(quantizeLayer(model, target, { method: params.method, format: params.format, scheme, hessian: h?.hessian, calibrationRows: h?.rows, actOrder: params.actOrder, damping: params.damping, names, isCancelled: ctx.isCancelled }));
      } catch (e) {
        if (isCancelledError(e)) throw new CancelledError();
        if (!(e instanceof RangeError)) throw e;
        skippedAll.push({ layer: target.layer, reason: e.message });
      }
    }
  }
  if (!layers.length) throw new RangeError(`no layer could be quantized: ${skippedAll.map((s) => `${s.layer}: ${s.reason}`).slice(0, 3).join('; ')}`);
  model.setMetadata('quantscope.quantize', JSON.stringify({ method: params.method, format: params.format, bits: params.bits, group: params.group ?? null, symmetric: scheme.symmetric, layers: layers.length }));
  const quantizationSeconds = (performance.now() - tq) / 1000 - calibrationSeconds;

  const finished = await finishTransform(model, { source: params.path, output, overwrite: params.overwrite, heldOut: inputs.heldOut, heldOutSynthetic: inputs.heldOutSynthetic, edited: 'quantized' }, ctx);

  const quantizedWeights = layers.reduce((s, l) => s + l.weights, 0);
  const floatWeightBytes = layers.reduce((s, l) => s + l.beforeBytes, 0);
  const quantizedWeightBytes = layers.reduce((s, l) => s + l.afterBytes, 0);
  const warnings = inputWarnings(calibrationBatches, inputs);
  const thin = layers.filter((l) => l.calibrationRows !== null && l.calibrationRows < l.inFeatures);
  if (thin.length) {
    warnings.push(`${thin.length} layer(s) saw fewer calibration rows than inputs, so H is singular${params.method === 'gptq' ? ' and GPTQ can overfit it' : ''}; calibrate on more samples (first: ${thin[0].layer})`);
  }
  ctx.progress('done', 1);
  return {
    source: params.path,
    output,
    method: params.method,
    format: params.format,
    bits: params.bits,
    group: params.group ?? null,
    symmetric: scheme.symmetric,
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
      calibration: calibrationSeconds,
      quantization: quantizationSeconds,
      write: finished.writeSeconds,
      validation: finished.validationSeconds,
      total: (performance.now() - t0) / 1000,
    },
    runtimeVersion: runtimeVersion(),
    warnings,
  };
}
