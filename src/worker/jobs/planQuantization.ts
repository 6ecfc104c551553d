/** The `planQuantization` job: calibrate, measure every layer under every candidate precision, and plan, writing nothing. */
import { transformInputs } from './transformInputs';
import { DEFAULT_HESSIAN_BUDGET } from '../../core/calibration/layerGroups';
import { OnnxModel } from '../../core/onnx/OnnxModel';
import { planLayers } from '../../core/transform/quantize/planLayers';
import { selectTargets } from '../../core/transform/selectTargets';
import type { PlanParams, PlanResult } from '../../protocol/quantizeTypes';
import { CancelledError, type JobContext } from './JobContext';
import { isCancelledError } from '../../core/linalg/CancelledError';
import { streamCalibration } from './layerCalibration';
import { resolveModelInput } from './modelInput';

/** Plans for `params.path` under `params.budget`: the plan and its table. */
export async function planQuantization(params: PlanParams, ctx: JobContext): Promise<PlanResult> {
  const t0 = performance.now();
  const source = await OnnxModel.load((await resolveModelInput(params.path, ctx)).onnx);
  const { targets, skipped } = selectTargets(source, params.layers);
  if (!targets.length) throw new RangeError('no MatMul or Gemm with a constant 2-D float weight to plan for');
  try {
    const r = await planLayers(source, targets, params.budget, async (layers, visit, passCtx) => {
      const inputs = await transformInputs(source, params, true);
      const cal = await streamCalibration(source, layers, inputs.calib, params.hessianBudgetBytes ?? DEFAULT_HESSIAN_BUDGET, passCtx, visit);
      return { batches: cal.batches, synthetic: inputs.calibSynthetic };
    }, ctx);
    ctx.progress('done', 1);
    return { plan: r.plan, layers: r.layers, synthetic: r.synthetic, calibrationBatches: r.batches, skipped: [...skipped, ...r.skipped], seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    if (isCancelledError(e)) throw new CancelledError();
    throw e;
  }
}
