/**
 * The `exportGguf` job: a Hugging Face checkpoint (or a GGUF) written as GGUF for llama.cpp in a
 * preset or one ggml type. With a calibration, an importance matrix comes first: the built
 * decoder graph runs in ONNX Runtime over the calibration batches, and each projection's input
 * gives imp_j = mean x_j² (the diagonal of H = XᵀX over its rows), which the k-quants and the 32-value types
 * weight their block searches with, as llama.cpp does with an imatrix.
 */
import { DEFAULT_HESSIAN_BUDGET } from '../../core/calibration/layerGroups';
import { openDecoderSource } from '../../core/decoder';
import { storedName } from '../../core/decoder/decoderTensors';
import { parseGgufTarget } from '../../core/gguf/ggufTypeRules';
import { quantizeToGguf } from '../../core/gguf/quantizeToGguf';
import { OnnxModel } from '../../core/onnx/OnnxModel';
import { findWeightTargets } from '../../core/onnx/rewrite/weightTargets';
import type { GgufExportParams, GgufExportReport } from '../../protocol/ggufExportTypes';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { streamCalibration } from './layerCalibration';
import { resolveModelInput } from './modelInput';
import { transformInputs } from './transformInputs';

/**
 * imp_j = H_jj / rows. A column no calibration row touched gets a tiny weight instead of 0: a
 * super-block of zero weights would otherwise have no scale to fit (ggml's search divides by
 * the summed weight).
 */
export function importanceFromHessian(hessian: Float64Array, d: number, rows: number): Float32Array {
  const imp = new Float32Array(d);
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const v = rows > 0 ? hessian[j * d + j] / rows : 0;
    imp[j] = Number.isFinite(v) && v > 0 ? v : 0;
    sum += imp[j];
  }
  const floor = (sum / d) * 1e-6 || 1;
  for (let j = 0; j < d; j++) if (!(imp[j] > 0)) imp[j] = floor;
  return imp;
}

/**
 * The importance of every projection the calibration reaches, by the tensor's name in the source
 * (the graph names weights as Hugging Face does; a GGUF stores them under llama.cpp's names),
 * with how it was measured.
 */
async function measureImportance(params: GgufExportParams, ctx: JobContext): Promise<{ importance: Map<string, Float32Array>; info: NonNullable<GgufExportReport['calibration']> }> {
  const t0 = performance.now();
  const input = await resolveModelInput(params.path, ctx);
  const model = await OnnxModel.load(input.onnx);
  const targets = findWeightTargets(model).targets;
  const inputs = await transformInputs(model, { calibration: params.calibration ?? {} }, true);
  const byLayer = new Map(targets.map((t) => [t.layer, t]));
  // Only a GGUF source is written under its own names (quantizeToGguf's re-quantization path).
  const naming = (await openDecoderSource(params.path)).naming === 'gguf' ? 'gguf' : 'hf';
  const importance = new Map<string, Float32Array>();
  const cal = await streamCalibration(model, targets, inputs.calib, DEFAULT_HESSIAN_BUDGET, ctx, (group, stats) => {
    for (const layer of group.layers) {
      throwIfCancelled(ctx);
      const target = byLayer.get(layer);
      const h = stats.get(layer);
      if (target && h) importance.set(storedName(target.weight, naming), importanceFromHessian(h.hessian, target.inFeatures, h.rows));
    }
  });
  return {
    importance,
    info: { batches: cal.batches, synthetic: inputs.calibSynthetic, layers: importance.size, seconds: (performance.now() - t0) / 1000, ...(input.decoder ? { decoder: input.decoder } : {}) },
  };
}

/**
 * Writes `params.path` as GGUF in `params.target` beside the source (never over it or any
 * existing file; written to a temporary file and renamed, re-opened and checked), with an
 * importance matrix from calibration when `params.calibration` is given. Progress goes to
 * `ctx`; a cancellation throws {@link CancelledError} and leaves nothing.
 */
export async function exportGguf(params: GgufExportParams, ctx: JobContext): Promise<GgufExportReport> {
  const t0 = performance.now();
  const target = parseGgufTarget(params.target);
  let measured: Awaited<ReturnType<typeof measureImportance>> | undefined;
  if (params.calibration !== undefined) {
    ctx.progress('calibrating the importance matrix', 0);
    measured = await measureImportance(params, { isCancelled: ctx.isCancelled, progress: (m, f) => ctx.progress(m, f === undefined ? undefined : 0.6 * Math.min(1, f / 0.7)) });
  }
  const base = measured ? 0.6 : 0;
  ctx.progress('writing the GGUF', base);
  const importance = measured?.importance;
  let cancelled = false;
  const report = await quantizeToGguf(params.path, {
    target,
    ...(params.output === undefined ? {} : { output: params.output }),
    ...(importance ? { importance: (name: string) => importance.get(name) } : {}),
    onProgress: (done, total, tensor) => ctx.progress(`${tensor} (${done} of ${total})`, base + (1 - base) * (done / total)),
    isCancelled: () => (cancelled ||= ctx.isCancelled()),
  }).catch((e: unknown) => {
    if (cancelled) throw new CancelledError();
    throw e;
  });
  return { ...report, ...(measured ? { calibration: measured.info } : {}), seconds: (performance.now() - t0) / 1000 };
}
