/**
 * Calibration shared by the transform jobs (quantize, plan, prune): which layers a job touches,
 * its calibration and held-out inputs, and layer groups calibrated one after another so that
 * their Hessians fit a memory budget.
 */
import { basename } from 'node:path';
import { FormatError } from '../core/FormatError';
import { calibrationFiles, declaredInputs, SyntheticInputs, type Batch } from '../core/onnx/calibrationInputs';
import { buildCalibrationTaps, groupTapsByMemory } from '../core/onnx/calibrationTaps';
import type { OnnxModel } from '../core/onnx/OnnxModel';
import { findWeightTargets, type SkippedRewrite, type WeightTarget } from '../core/onnx/rewrite';
import type { QuantizeCalibration } from '../protocol/quantizeTypes';
import { calibrate } from './calibrate';
import { textBatches } from './textCalibration';
import type { JobContext } from './JobContext';

/** Seed of the held-out inputs: far from calibration's default seed 0, so the two never coincide. */
const HELD_OUT_SEED = 7_919_731;

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

/**
 * Calibration and held-out batches: from a text file tokenized with the model's tokenizer (windows
 * from its start, held-out ones from its end), from an array file (its last batch held out), else
 * generated with distinct seeds.
 */
export async function inputBatches(model: OnnxModel, params: { readonly calibration?: QuantizeCalibration; readonly validationBatches?: number }, needCalibration: boolean): Promise<{ calib: Batch[] | undefined; heldOut: Batch[]; calibSynthetic: boolean; heldOutSynthetic: boolean }> {
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
  if (c.file !== undefined && /\.txt$/i.test(c.file)) {
    if (!c.tokenizer) throw new FormatError(`${basename(c.file)} is text: calibrating on text needs the model's tokenizer.json as well (--tokenizer)`);
    const text = { model, batchSize, ...(c.sequenceLength ? { sequenceLength: c.sequenceLength } : {}) };
    // Calibration windows come from the start of the text, held-out ones from its end.
    const calib = needCalibration ? (await textBatches(c.file, c.tokenizer, specs, { ...text, batches: count })).batches : undefined;
    const heldOut = (await textBatches(c.file, c.tokenizer, specs, { ...text, batches: validationBatches, heldOut: true })).batches;
    return { calib, heldOut, calibSynthetic: false, heldOutSynthetic: false };
  }
  if (c.file !== undefined) {
    const files = await calibrationFiles([c.file], specs, { splitRows: true });
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

/** A layer's Hessian H = XᵀX, the calibration rows it summed, and its input's channel absmax. */
export interface LayerHessian {
  readonly hessian: Float64Array;
  readonly rows: number;
  readonly absmax: readonly number[];
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
  for (const l of cal.layers) hessians.set(l.layer, { hessian: l.hessian, rows: l.rows, absmax: l.absmax });
  return { hessians, batches: cal.batches, seconds: (performance.now() - tc) / 1000 };
}
