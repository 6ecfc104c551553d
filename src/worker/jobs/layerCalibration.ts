/**
 * Calibration for the transform jobs: layer groups calibrated in ONNX Runtime one after another,
 * each group's statistics handed on before the next is calibrated, so that the Hessians held at
 * once fit the memory budget.
 */
import type { Batch } from '../../core/calibration/calibrationInputs';
import { calibrationGroups, type LayerGroup, type LayerHessian } from '../../core/calibration/layerGroups';
import type { OnnxModel } from '../../core/onnx/OnnxModel';
import type { WeightTarget } from '../../core/onnx/rewrite';
import { calibrate } from './calibrate';
import type { JobContext } from './JobContext';

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

/**
 * Calibrates `targets` in groups that fit `budget` (none when `calib` is undefined) and calls
 * `visit` with each group's statistics before the next group is calibrated; a group's Hessians
 * are dropped once it is visited. Returns the batches run (of the last calibrated group) and the
 * time spent calibrating.
 */
export async function streamCalibration(
  source: OnnxModel, targets: readonly WeightTarget[], calib: Batch[] | undefined, budget: number, ctx: JobContext,
  visit: (group: LayerGroup, stats: ReadonlyMap<string, LayerHessian>) => void,
): Promise<{ batches: number; seconds: number }> {
  let batches = 0, seconds = 0, done = 0;
  for (const group of calibrationGroups(source, targets, calib !== undefined, budget)) {
    const cal = await calibrateGroup(source, group, calib, { done, total: targets.length }, ctx);
    if (cal.batches !== undefined) batches = cal.batches;
    seconds += cal.seconds;
    visit(group, cal.hessians);
    done += group.layers.length;
  }
  return { batches, seconds };
}
