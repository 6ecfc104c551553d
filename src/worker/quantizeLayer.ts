import type { OnnxModel } from '../core/onnx/OnnxModel';
import { canonicalWeight, type NameAllocator, type RewriteRecord, type WeightTarget } from '../core/onnx/rewrite';
import { rewriteDynamicW8A8 } from '../core/onnx/rewrite/dynamicW8A8';
import { rewriteMatMulNBits } from '../core/onnx/rewrite/matMulNBits';
import { nbitsBlockSize } from '../core/onnx/rewrite/packMatMulNBits';
import { BLOCKED_DQ_OPSET, qdqSupports, rewriteWeightOnlyQdq } from '../core/onnx/rewrite/weightOnlyQdq';
import { quadraticTraceOfDifference } from '../core/linalg/quadraticTrace';
import { dequantize } from '../core/quant/dequantize';
import { gptq } from '../core/quant/gptq';
import type { QuantizedWeight, QuantScheme } from '../core/quant/QuantScheme';
import { quantizeRtn } from '../core/quant/rtn';
import type { LayerReport, QuantizeFormat, QuantizeMethod } from '../protocol/quantizeTypes';

/** What {@link quantizeLayer} needs besides the model and the layer. */
export interface LayerJob {
  readonly method: QuantizeMethod;
  readonly format: QuantizeFormat;
  readonly scheme: QuantScheme;
  /** H = XᵀX [in, in] of the layer's input; required for GPTQ. */
  readonly hessian?: Float64Array;
  /** Rows of X that H sums over. */
  readonly calibrationRows?: number;
  /** GPTQ options (see {@link gptq}). */
  readonly actOrder?: boolean;
  readonly damping?: number;
  readonly names: NameAllocator;
  readonly isCancelled: () => boolean;
}

function sqnrDb(w: Float32Array, q: Float32Array): number | null {
  let s = 0, e = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i] * w[i];
    e += (w[i] - q[i]) ** 2;
  }
  return e > 0 ? 10 * Math.log10(s / e) : null;
}

/**
 * The rewrite a layer gets: MatMulNBits, dynamic W8A8, or weight-only QDQ. A 4-bit QDQ weight in a
 * model below opset 21 (which has no INT4 type) goes to MatMulNBits, the 4-bit form such a model
 * can hold, unless no MatMulNBits block fits; then its codes sit in an INT8 container.
 */
function write(model: OnnxModel, target: WeightTarget, q: QuantizedWeight, job: LayerJob): RewriteRecord {
  if (job.format === 'nbits') return rewriteMatMulNBits(model, target, q, job.names);
  if (job.format === 'dynamic') return rewriteDynamicW8A8(model, target, q, job.names);
  const opset = model.opsetVersion() ?? 1;
  if (q.layout.bits === 4 && opset < BLOCKED_DQ_OPSET) {
    let fits = true;
    try {
      nbitsBlockSize(q);
    } catch {
      fits = false;
    }
    if (fits || !qdqSupports(q, opset).ok) return rewriteMatMulNBits(model, target, q, job.names);
  }
  return rewriteWeightOnlyQdq(model, target, q, job.names);
}

/**
 * Quantizes one layer (RTN, or GPTQ with its Hessian), rewrites it in `model`, and measures what
 * it cost: weight SQNR and, when H is known, the layer error tr(ΔW H ΔWᵀ) / tr(W H Wᵀ).
 */
export function quantizeLayer(model: OnnxModel, target: WeightTarget, job: LayerJob): LayerReport {
  const W = { rows: target.outFeatures, cols: target.inFeatures, data: canonicalWeight(model, target) };
  const H = job.hessian === undefined ? undefined : { rows: W.cols, cols: W.cols, data: job.hessian };
  let q: QuantizedWeight;
  if (job.method === 'gptq') {
    if (!H) throw new Error(`${target.layer}: GPTQ needs the layer's Hessian from calibration`);
    q = gptq(W, H, { scheme: job.scheme, isCancelled: job.isCancelled, ...(job.actOrder ? { actOrder: true } : {}), ...(job.damping === undefined ? {} : { percdamp: job.damping }) });
  } else q = quantizeRtn(W, job.scheme);
  const deq = dequantize(q);
  let relativeError: number | null = null;
  let rtnRelativeError: number | null = null;
  if (H) {
    const energy = quadraticTraceOfDifference(W, undefined, H);
    if (energy > 0) {
      relativeError = quadraticTraceOfDifference(W, { ...W, data: deq }, H) / energy;
      if (job.method === 'gptq') rtnRelativeError = quadraticTraceOfDifference(W, { ...W, data: dequantize(quantizeRtn(W, job.scheme)) }, H) / energy;
    }
  }
  const record = write(model, target, q, job);
  return { ...record, inFeatures: W.cols, outFeatures: W.rows, relativeError, rtnRelativeError, calibrationRows: H ? job.calibrationRows ?? null : null, sqnrDb: sqnrDb(W.data, deq), bitsPerWeight: (record.afterBytes * 8) / record.weights };
}
