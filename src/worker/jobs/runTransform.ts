/**
 * The transform pipeline every method runs: resolve the parameters, load the model, select the
 * layers, calibrate them in groups that fit the memory budget, run the method's kernel on each
 * layer (between layers the job can be cancelled), write the new model, check that ONNX Runtime
 * loads it, validate it against the source on held-out inputs, and report.
 */
import { transformInputs } from './transformInputs';
import { DEFAULT_HESSIAN_BUDGET } from '../../core/calibration/layerGroups';
import { isCancelledError } from '../../core/linalg/CancelledError';
import { OnnxModel } from '../../core/onnx/OnnxModel';
import { NameAllocator, type WeightTarget } from '../../core/onnx/rewrite';
import { selectTargets } from '../../core/transform/selectTargets';
import type { CalibrationPass, TransformJob, TransformMethod } from '../../core/transform/TransformMethod';
import { validateParams } from '../../core/transform/validateParams';
import type { SkippedRewrite } from '../../protocol/rewriteTypes';
import type { TransformSource } from '../../protocol/transformTypes';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { finishTransform, inputWarnings, transformOutput } from './finishTransform';
import { streamCalibration } from './layerCalibration';
import { runtimeVersion } from '../ort';
import { resolveModelInput } from './modelInput';

/** How each job names what it does, in progress, errors and the model's metadata. */
const JOB_WORDS: Readonly<Record<TransformJob, { readonly verb: string; readonly participle: string; readonly progressing: string }>> = {
  quantize: { verb: 'quantize', participle: 'quantized', progressing: 'quantizing' },
  prune: { verb: 'prune', participle: 'pruned', progressing: 'pruning' },
};

/** A layer report the pipeline can name in its errors. */
interface NamedLayer {
  readonly layer: string;
}

/**
 * Runs `method` on `params.path` and writes a new model (never the source, never an existing
 * file unless `overwrite`). The parameters are validated first, so a job that arrives over
 * JSON-RPC is checked as one from the command line is. Calibration runs when the method needs
 * it or calibration data is given. The output must load in ONNX Runtime, else it is deleted and
 * the job fails; cancellation stops between layers, kernel blocks, write chunks and validation
 * batches, and deletes the output.
 */
export async function runTransform<P extends TransformSource & { readonly method: string }, L extends NamedLayer, R>(method: TransformMethod<P, L, R>, given: P, ctx: JobContext): Promise<R> {
  try {
    return await run(method, given, ctx);
  } catch (e) {
    // Kernels throw the engine's cancellation; callers see the job's.
    if (isCancelledError(e) && !(e instanceof CancelledError)) throw new CancelledError();
    throw e;
  }
}

async function run<P extends TransformSource & { readonly method: string }, L extends NamedLayer, R>(method: TransformMethod<P, L, R>, given: P, ctx: JobContext): Promise<R> {
  const t0 = performance.now();
  const params = validateParams(method, given);
  const words = JOB_WORDS[method.job];
  // A checkpoint runs as its built graph; its outputs are still named after the checkpoint's folder.
  const input = await resolveModelInput(params.path, ctx);
  const output = transformOutput({ ...params, path: input.outputBase }, method.suffix(params));
  const source = await OnnxModel.load(input.onnx);
  // Targets are nodes of the copy that is rewritten; calibration reads the untouched source.
  const model = source.clone();
  const selected = selectTargets(model, params.layers);
  if (!selected.targets.length) throw new RangeError(`no MatMul or Gemm with a constant 2-D float weight to ${words.verb}`);
  const budget = params.hessianBudgetBytes ?? DEFAULT_HESSIAN_BUDGET;
  // A calibration pass of the method's own (a plan measuring every layer) on calibration inputs.
  const calibrate: CalibrationPass = async (targets, visit, passCtx) => {
    const inputs = await transformInputs(source, params, true);
    const r = await streamCalibration(source, targets, inputs.calib, budget, passCtx, visit);
    return { batches: r.batches, synthetic: inputs.calibSynthetic };
  };
  const kernel = await method.start({ params, source, model, targets: selected.targets, names: new NameAllocator(model), ctx, calibrate });
  const targets = kernel.targets ?? selected.targets;
  const skipped: SkippedRewrite[] = [...selected.skipped, ...(kernel.skipped ?? [])];

  const needs = method.needs(params);
  const needCalibration = needs.hessian || needs.activations || params.calibration !== undefined;
  const inputs = await transformInputs(source, params, needCalibration);
  const start = kernel.progressStart ?? 0;
  // Calibration progress spans what is left after the method's own pass.
  const calibrationCtx: JobContext = { ...ctx, progress: (m, f) => ctx.progress(m, f === undefined ? undefined : start + (1 - start / 0.7) * f) };
  const byLayer = new Map(targets.map((t) => [t.layer, t]));
  const layers: L[] = [];
  const tk = performance.now();
  let done = 0;
  const cal = await streamCalibration(source, targets, needCalibration ? inputs.calib : undefined, budget, calibrationCtx, (group, hessians) => {
    let stats = hessians;
    let current: ReadonlyMap<string, WeightTarget> = byLayer;
    if (kernel.group) {
      const g = kernel.group(group.layers.flatMap((l) => byLayer.get(l) ?? []), hessians);
      stats = g.stats;
      current = g.targets;
      skipped.push(...g.skipped);
    }
    for (const name of group.layers) {
      throwIfCancelled(ctx);
      const target = current.get(name);
      if (!target) continue;
      ctx.progress(`${words.progressing} ${target.layer}`, start + ((0.7 - start) * done++) / targets.length);
      const h = stats.get(target.layer);
      if (needs.hessian && !h) {
        skipped.push({ layer: target.layer, reason: 'calibration gave no Hessian for this layer' });
        continue;
      }
      if (needs.activations && !h) {
        skipped.push({ layer: target.layer, reason: 'calibration did not reach this layer, so its activation range is unknown' });
        continue;
      }
      try {
        const outcome = kernel.layer(target, h);
        if ('skip' in outcome) skipped.push({ layer: target.layer, reason: outcome.skip });
        else layers.push(outcome.layer);
      } catch (e) {
        if (isCancelledError(e)) throw new CancelledError();
        if (!(e instanceof RangeError)) throw e;
        skipped.push({ layer: target.layer, reason: e.message });
      }
    }
  });
  if (!layers.length) throw new RangeError(`no layer could be ${words.participle}: ${skipped.map((s) => `${s.layer}: ${s.reason}`).slice(0, 3).join('; ')}`);
  model.setMetadata(`quantscope.${method.job}`, JSON.stringify(kernel.metadata(layers)));
  const kernelSeconds = (performance.now() - tk) / 1000 - cal.seconds;

  const finished = await finishTransform(model, { source: input.onnx, output, overwrite: params.overwrite, heldOut: inputs.heldOut, heldOutSynthetic: inputs.heldOutSynthetic, edited: words.participle }, ctx);
  const report = kernel.report({
    base: {
      source: params.path, output,
      synthetic: cal.batches > 0 && inputs.calibSynthetic,
      calibrationBatches: cal.batches,
      layers, skipped,
      validation: finished.validation,
      runtimeVersion: runtimeVersion(),
      warnings: inputWarnings(cal.batches, inputs),
      ...(input.decoder ? { decoderGraph: input.decoder } : {}),
    },
    sizes: { sourceBytes: finished.sourceBytes, outputBytes: finished.outputBytes },
    seconds: { calibration: cal.seconds, kernel: kernelSeconds, write: finished.writeSeconds, validation: finished.validationSeconds, total: (performance.now() - t0) / 1000 },
  });
  ctx.progress('done', 1);
  return report;
}
