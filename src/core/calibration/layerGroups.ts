/**
 * Layer groups calibrated one after another so that their Hessians fit a memory budget, and the
 * statistics calibration gives each layer.
 */
import type { OnnxModel } from '../onnx/OnnxModel';
import type { WeightTarget } from '../onnx/rewrite';
import { buildCalibrationTaps, groupTapsByMemory } from './calibrationTaps';

/** Largest total size of the d×d Float64 Hessians held at once. */
export const DEFAULT_HESSIAN_BUDGET = 2 * 2 ** 30;

/** Layers processed together: calibrated in one pass (when `calibrate`), then transformed. */
export interface LayerGroup {
  readonly layers: readonly string[];
  readonly calibrate: boolean;
}

/** A layer's Hessian H = XᵀX, the calibration rows it summed, and its input's channel absmax. */
export interface LayerHessian {
  readonly hessian: Float64Array;
  readonly rows: number;
  readonly absmax: readonly number[];
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
