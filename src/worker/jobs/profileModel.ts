import { basename } from 'node:path';
import { FormatError } from '../../core/FormatError';
import { declaredInputs } from '../../core/calibration/calibrationInputs';
import { buildCalibrationTaps, groupTapsByMemory } from '../../core/calibration/calibrationTaps';
import { OnnxModel } from '../../core/onnx/OnnxModel';
import { layerSensitivity, type LayerSensitivity } from '../../core/quant/sensitivity';
import { transposeWeight } from '../../core/quant/transposeWeight';
import { isCancelledError } from '../../core/linalg/CancelledError';
import { channelHeatmap } from '../../core/stats/channelHeatmap';
import type { LayerProfile, ModelProfile, ModelProfileParams } from '../../protocol/workerProtocol';
import { calibrate, summarizeCalibration, type LayerActivationStats, type LayerCalibration } from './calibrate';
import { CancelledError, type JobContext, throwIfCancelled } from './JobContext';
import { profileWeights } from './profileWeights';
import { textBatches } from './textCalibration';
import { resolveModelInput } from './modelInput';

function sub(ctx: JobContext, from: number, to: number): JobContext {
  return { isCancelled: ctx.isCancelled, progress: (m, f) => ctx.progress(m, f === undefined ? undefined : from + (to - from) * f) };
}

/** Largest total size of the Hessians held at once when the caller sets none: 4 GiB. */
const DEFAULT_HESSIAN_BUDGET = 4 * 2 ** 30;

/** One layer's profile: its activation statistics and its sensitivity (or why there is none). */
function sensitivityOf(model: OnnxModel, layer: LayerCalibration, stats: LayerActivationStats, ctx: JobContext): LayerProfile {
  try {
    const [rows, cols] = layer.weightShape;
    const raw = model.getFloatTensor(layer.weight);
    // Gemm with transB stores [out, in] already; MatMul and plain Gemm store [in, out].
    const W = layer.weightTransposed ? { rows, cols, data: raw } : { rows: cols, cols: rows, data: transposeWeight(raw, rows, cols) };
    return { ...stats, sensitivity: layerSensitivity(W, { rows: layer.d, cols: layer.d, data: layer.hessian }, { isCancelled: ctx.isCancelled, rows: layer.rows }) };
  } catch (e) {
    if (isCancelledError(e) || ctx.isCancelled()) throw new CancelledError();
    return { ...stats, sensitivityError: e instanceof Error ? e.message : String(e) };
  }
}

/** The INT4 g128 relative error of a layer, the key the ranking uses. */
function int4g128(s: LayerSensitivity | undefined): number {
  return s?.candidates.find((c) => c.id === 'int4-g128')?.relativeError ?? -1;
}

/**
 * Profiles an ONNX model: weight statistics of every tensor, activation statistics from a
 * calibration run in ONNX Runtime, and each layer's Hessian sensitivity
 * tr(ΔW H ΔWᵀ) / tr(W H Wᵀ) for the candidate precisions, ranked.
 */
export async function profileModel(params: ModelProfileParams, ctx: JobContext): Promise<ModelProfile> {
  const input = await resolveModelInput(params.path, sub(ctx, 0, 0.1));
  const weights = await profileWeights({ path: input.onnx }, sub(ctx, 0.1, 0.2));
  const model = await OnnxModel.load(input.onnx);
  const text = params.calibrationFiles?.find((f) => f.toLowerCase().endsWith('.txt'));
  const files = params.calibrationFiles?.filter((f) => f !== text) ?? [];
  let feeds;
  if (text) {
    if (!params.tokenizer) throw new FormatError(`${basename(text)} is text: calibrating on text needs the model's tokenizer.json as well`);
    ({ batches: feeds } = await textBatches(text, params.tokenizer, declaredInputs(model), {
      model,
      ...(params.sequenceLength ? { sequenceLength: params.sequenceLength } : {}),
      ...(params.batchSize ? { batchSize: params.batchSize } : {}),
      ...(params.samples ? { batches: params.samples } : {}),
    }, ctx));
  }
  // The Hessians of all layers may not fit in memory together: calibrate layer groups that fit
  // the budget one after another, keeping only each group's sensitivity before the next.
  const budget = params.memoryBudgetBytes ?? DEFAULT_HESSIAN_BUDGET;
  const { taps } = buildCalibrationTaps(model);
  const groups = taps.length ? groupTapsByMemory(taps, budget) : [undefined];
  const layers: LayerProfile[] = [];
  let summary: ReturnType<typeof summarizeCalibration> | undefined;
  for (const [g, group] of groups.entries()) {
    const span = 0.8 / groups.length;
    const result = await calibrate(
      model,
      {
        ...(feeds ? { feeds } : {}),
        ...(files.length ? { files } : {}),
        ...(group ? { layers: group } : {}),
        ...(params.samples ? { batches: params.samples } : {}),
        ...(params.batchSize ? { batchSize: params.batchSize } : {}),
        ...(params.sequenceLength ? { sequenceLength: params.sequenceLength } : {}),
        ...(params.dims ? { dims: params.dims } : {}),
        ...(params.threshold !== undefined ? { threshold: params.threshold } : {}),
        memoryBudgetBytes: budget,
        ...(params.threads ? { threads: params.threads } : {}),
      },
      sub(ctx, 0.2 + g * span, 0.2 + (g + 0.6) * span),
    );
    const part = summarizeCalibration(result);
    summary = summary ? { ...part, seconds: summary.seconds + part.seconds, hessianBytes: Math.max(summary.hessianBytes, part.hessianBytes), layers: [] } : { ...part, layers: [] };
    for (const [i, layer] of result.layers.entries()) {
      throwIfCancelled(ctx);
      ctx.progress(`Sensitivity of ${layer.layer}`, 0.2 + (g + 0.6 + (0.4 * i) / Math.max(1, result.layers.length)) * span);
      layers.push(sensitivityOf(model, layer, part.layers[i], ctx));
    }
  }
  const ranked = [...layers].sort((a, b) => int4g128(b.sensitivity) - int4g128(a.sensitivity)).map((l, i) => ({ ...l, ...(l.sensitivity ? { rank: i + 1 } : {}) }));
  if (!summary) throw new FormatError(`${basename(params.path)} has no MatMul or Gemm with a constant weight to calibrate`);
  const { layers: _omit, ...calibration } = summary;
  return {
    path: params.path,
    weights,
    calibration,
    layers: ranked,
    // In graph order (the order calibration found the layers), not by rank.
    activationHeatmap: channelHeatmap(layers.map((l) => ({ layer: l.layer, absmax: l.absmax }))),
  };
}
