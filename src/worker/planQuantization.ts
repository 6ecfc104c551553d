/**
 * Mixed-precision planning: calibrate, measure each layer's error under every candidate precision
 * (the sensitivity table), and choose per layer among float, INT8 per-channel, INT4 g128 and INT4
 * per-channel under a budget.
 */
import { isCancelledError } from '../core/linalg/CancelledError';
import { OnnxModel } from '../core/onnx/OnnxModel';
import { canonicalWeight, NBITS_BLOCK_SIZES, type SkippedRewrite, type WeightTarget } from '../core/onnx/rewrite';
import { BLOCKED_DQ_OPSET } from '../core/onnx/rewrite/weightOnlyQdq';
import { planFromSensitivity, planMixedPrecision, type MixedPrecisionPlan, type PlanLayer } from '../core/quant/mixedPrecisionPlan';
import { DEFAULT_SENSITIVITY_CANDIDATES, layerSensitivity } from '../core/quant/sensitivity';
import type { PlanParams, PlanResult, QuantizeCalibration } from '../protocol/quantizeTypes';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { calibrateGroup, calibrationGroups, DEFAULT_HESSIAN_BUDGET, inputBatches, selectTargets } from './layerCalibration';

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

/** What {@link planLayers} needs from the job's parameters. */
export interface PlanOptions {
  readonly budget: PlanParams['budget'];
  readonly calibration?: QuantizeCalibration;
  readonly hessianBudgetBytes?: number;
}

/**
 * Calibrates `targets` of `source` group by group, measures each layer's relative error under
 * every candidate (RTN, as the sensitivity table does) and plans under `options.budget`. Layers
 * the taps cannot reach are left out with a reason (they stay float).
 */
export async function planLayers(source: OnnxModel, targets: readonly WeightTarget[], options: PlanOptions, ctx: JobContext): Promise<{ plan: MixedPrecisionPlan; layers: PlanLayer[]; skipped: SkippedRewrite[]; batches: number; synthetic: boolean }> {
  const inputs = await inputBatches(source, { calibration: options.calibration }, true);
  const groups = calibrationGroups(source, targets, inputs.calib !== undefined, options.hessianBudgetBytes ?? DEFAULT_HESSIAN_BUDGET);
  const byLayer = new Map(targets.map((t) => [t.layer, t]));
  const opset = source.opsetVersion() ?? 1;
  const layers: PlanLayer[] = [];
  const skipped: SkippedRewrite[] = [];
  let batches = 0;
  let done = 0;
  for (const group of groups) {
    const cal = await calibrateGroup(source, group, inputs.calib, { done, total: targets.length }, ctx);
    if (cal.batches !== undefined) batches = cal.batches;
    for (const name of group.layers) {
      throwIfCancelled(ctx);
      const target = byLayer.get(name);
      const h = cal.hessians.get(name);
      done++;
      if (!target) continue;
      if (!h) {
        skipped.push({ layer: name, reason: 'calibration cannot reach this layer, so it has no sensitivity; kept in float' });
        continue;
      }
      ctx.progress(`measuring ${name}`, 0.35 + (0.65 * done) / targets.length);
      const W = { rows: target.outFeatures, cols: target.inFeatures, data: canonicalWeight(source, target) };
      try {
        const s = layerSensitivity(W, { rows: W.cols, cols: W.cols, data: h.hessian }, { candidates: QUANT_CANDIDATES, isCancelled: ctx.isCancelled, eigenMaxIterations: 50 });
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
        layers.push({ ...row, errors, ...(storedBits ? { storedBits } : {}) });
      } catch (e) {
        if (isCancelledError(e)) throw new CancelledError();
        throw e;
      }
    }
  }
  if (!layers.length) throw new RangeError('calibration reached none of the layers, so there is nothing to plan');
  return { plan: planMixedPrecision(layers, options.budget), layers, skipped, batches, synthetic: inputs.calibSynthetic };
}

/** The `planQuantization` job: a plan and its table, nothing written. */
export async function planQuantization(params: PlanParams, ctx: JobContext): Promise<PlanResult> {
  const t0 = performance.now();
  const source = await OnnxModel.load(params.path);
  const { targets, skipped } = selectTargets(source, params.layers);
  if (!targets.length) throw new RangeError('no MatMul or Gemm with a constant 2-D float weight to plan for');
  const r = await planLayers(source, targets, params, ctx);
  ctx.progress('done', 1);
  return { plan: r.plan, layers: r.layers, synthetic: r.synthetic, calibrationBatches: r.batches, skipped: [...skipped, ...r.skipped], seconds: (performance.now() - t0) / 1000 };
}
