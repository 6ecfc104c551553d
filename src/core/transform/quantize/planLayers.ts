/**
 * Mixed-precision planning: measure each layer's error under every candidate precision (the
 * sensitivity table) from its calibration H, and choose per layer among float, INT8 per-channel,
 * INT4 g128 and INT4 per-channel under a budget.
 */
import { CancelledError, isCancelledError } from '../../linalg/CancelledError';
import type { OnnxModel } from '../../onnx/OnnxModel';
import { canonicalWeight, NBITS_BLOCK_SIZES, type SkippedRewrite, type WeightTarget } from '../../onnx/rewrite';
import { BLOCKED_DQ_OPSET } from '../../onnx/rewrite/weightOnlyQdq';
import { planFromSensitivity, planMixedPrecision, type MixedPrecisionPlan, type PlanBudget, type PlanLayer } from '../../quant/mixedPrecisionPlan';
import { DEFAULT_SENSITIVITY_CANDIDATES, layerSensitivity } from '../../quant/sensitivity';
import type { CalibrationPass, TransformContext } from '../TransformMethod';

/** The candidate precisions a plan chooses among (2:4 pruning is not one). */
const QUANT_CANDIDATES = DEFAULT_SENSITIVITY_CANDIDATES.filter((c) => c.kind === 'quant');

/**
 * Stored bits of a symmetric 4-bit N×K weight as MatMulNBits with blocks of `block`: each row
 * holds ⌈K/block⌉ whole blocks of 4-bit codes and one float32 scale per block (zero points are
 * the default 8 and not stored).
 */
function nbitsBits(N: number, K: number, block: number): number {
  return N * Math.ceil(K / block) * (4 * block + 32);
}

/** A plan, the table it was made from, and what calibration gave it. */
export interface PlannedLayers {
  readonly plan: MixedPrecisionPlan;
  readonly layers: PlanLayer[];
  readonly skipped: SkippedRewrite[];
  readonly batches: number;
  readonly synthetic: boolean;
}

/**
 * Calibrates `targets` of `source` (through `calibrate`, group by group), measures each layer's
 * relative error under every candidate (RTN, as the sensitivity table does) and plans under
 * `budget`. Layers the taps cannot reach are left out with a reason (they stay float).
 */
export async function planLayers(source: OnnxModel, targets: readonly WeightTarget[], budget: PlanBudget, calibrate: CalibrationPass, ctx: TransformContext): Promise<PlannedLayers> {
  const byLayer = new Map(targets.map((t) => [t.layer, t]));
  const opset = source.opsetVersion() ?? 1;
  const layers: PlanLayer[] = [];
  const skipped: SkippedRewrite[] = [];
  let done = 0;
  const cal = await calibrate(targets, (group, stats) => {
    for (const name of group.layers) {
      if (ctx.isCancelled()) throw new CancelledError();
      const target = byLayer.get(name);
      const h = stats.get(name);
      done++;
      if (!target) continue;
      if (!h) {
        skipped.push({ layer: name, reason: 'calibration cannot reach this layer, so it has no sensitivity; kept in float' });
        continue;
      }
      ctx.progress(`measuring ${name}`, 0.35 + (0.65 * done) / targets.length);
      const W = { rows: target.outFeatures, cols: target.inFeatures, data: canonicalWeight(source, target) };
      try {
        const s = layerSensitivity(W, { rows: W.cols, cols: W.cols, data: h.hessian }, { candidates: QUANT_CANDIDATES, isCancelled: ctx.isCancelled, eigenMaxIterations: 50, rows: h.rows });
        const [row] = planFromSensitivity([{ layer: name, outFeatures: target.outFeatures, sensitivity: s }]);
        const errors = { ...row.errors };
        // Below opset 21 4-bit weights are written as MatMulNBits, whose rows are padded to whole
        // blocks: budget what will be stored. A per-channel row is 4-bit only as one block
        // (K ≤ 256); a wider one would sit in an INT8 container, so it is not offered.
        let storedBits: PlanLayer['storedBits'];
        if (opset < BLOCKED_DQ_OPSET) {
          const K = target.inFeatures, N = target.outFeatures;
          const oneBlock = NBITS_BLOCK_SIZES.find((b) => b >= K);
          storedBits = { 'int4-g128': K <= 128 && oneBlock !== undefined ? nbitsBits(N, K, oneBlock) : nbitsBits(N, K, 128) };
          if (oneBlock === undefined) delete errors['int4-channel'];
          else storedBits['int4-channel'] = nbitsBits(N, K, oneBlock);
        }
        layers.push({ ...row, errors, storedBits });
      } catch (e) {
        if (isCancelledError(e)) throw new CancelledError();
        throw e;
      }
    }
  }, ctx);
  if (!layers.length) throw new RangeError('calibration reached none of the layers, so there is nothing to plan');
  return { plan: planMixedPrecision(layers, budget), layers, skipped, batches: cal.batches, synthetic: cal.synthetic };
}
