import type { NameAllocator, SkippedRewrite, WeightTarget } from '../../onnx/rewrite';
import type { OnnxModel } from '../../onnx/OnnxModel';
import { applySmoothQuant } from '../../onnx/rewrite/smoothQuant';
import { smoothedAbsmax, smoothedHessian } from '../../quant/smoothQuant';
import { maxOverMedian } from '../../stats/maxOverMedian';
import type { SmoothingReport } from '../../../protocol/quantizeTypes';
import type { LayerHessian } from '../../calibration/layerGroups';

/**
 * Smooths one calibration group's layers in `model` (SmoothQuant, migration strength α) and
 * returns their statistics as the smoothed model would have measured them: X' = X·diag(1/s), so
 * absmax'_j = absmax_j / s_j and H' = diag(1/s)·H·diag(1/s). No second calibration is needed.
 */
export function smoothGroup(model: OnnxModel, targets: readonly WeightTarget[], stats: ReadonlyMap<string, LayerHessian>, alpha: number, names: NameAllocator): { reports: SmoothingReport[]; skipped: SkippedRewrite[]; stats: Map<string, LayerHessian> } {
  const { smoothed, skipped } = applySmoothQuant(model, targets, (layer) => stats.get(layer)?.absmax, { alpha, names });
  const out = new Map(stats);
  const reports: SmoothingReport[] = [];
  for (const a of smoothed) {
    const first = stats.get(a.layers[0]);
    if (!first) continue;
    // Layers reading one X share one Hessian array: transform it once.
    const d = first.absmax.length;
    const hessian = smoothedHessian(first.hessian, d, a.scales);
    const absmax = Array.from(smoothedAbsmax(first.absmax, a.scales));
    for (const layer of a.layers) {
      const h = stats.get(layer);
      if (h) out.set(layer, { hessian, rows: h.rows, absmax });
    }
    reports.push({
      activation: a.activation, layers: a.layers, alpha: a.alpha, foldedInto: a.foldedInto, mulNode: a.mulNode,
      minScale: a.minScale, maxScale: a.maxScale, difficultyBefore: maxOverMedian(first.absmax), difficultyAfter: maxOverMedian(absmax),
    });
  }
  return { reports, skipped, stats: out };
}
