import type { OnnxModel } from '../../onnx/OnnxModel';
import { canonicalWeight, type NameAllocator, type RewriteRecord, type WeightTarget } from '../../onnx/rewrite';
import { rewriteDynamicW8A8 } from '../../onnx/rewrite/dynamicW8A8';
import { rewriteInt8Decomposition } from '../../onnx/rewrite/int8Decomposition';
import { rewriteMatMulNBits } from '../../onnx/rewrite/matMulNBits';
import { nbitsBlockSize } from '../../onnx/rewrite/packMatMulNBits';
import { rewriteStaticW8A8, type ActivationQdq } from '../../onnx/rewrite/staticW8A8';
import { BLOCKED_DQ_OPSET, qdqSupports, rewriteWeightOnlyQdq } from '../../onnx/rewrite/weightOnlyQdq';
import type { MatrixLike } from '../../linalg/Matrix';
import { HessianForm } from '../../linalg/HessianForm';
import { dequantize } from '../../quant/dequantize';
import { gptq } from '../../quant/gptq';
import type { QuantizedWeight, QuantScheme } from '../../quant/QuantScheme';
import { quantizeRtn, quantizeRtnMeasured } from '../../quant/rtn';
import type { ScratchArrays } from '../../quant/ScratchArrays';
import type { LayerReport, QuantizeFormat, WeightRounding } from '../../../protocol/quantizeTypes';

/** An activation's static quantization: its scale and uint8 zero point, and the shared Q/DQ pairs. */
export interface StaticActivation {
  readonly quant: { readonly scale: number; readonly zeroPoint: number };
  readonly shared: ActivationQdq;
}

/** What {@link quantizeLayer} needs besides the model and the layer. */
export interface LayerJob {
  readonly rounding: WeightRounding;
  readonly format: QuantizeFormat;
  readonly scheme: QuantScheme;
  /** H = XᵀX [in, in] of the layer's input; required for GPTQ. */
  readonly hessian?: Float64Array;
  /** Rows of X that H sums over. */
  readonly calibrationRows?: number;
  /** GPTQ options (see {@link gptq}). */
  readonly actOrder?: boolean;
  readonly damping?: number;
  /** Static W8A8: the activation's quantization (of X, or of X's regular channels when decomposed). */
  readonly activation?: StaticActivation;
  /** LLM.int8(): input channels kept in float; the others are quantized. */
  readonly outliers?: readonly number[];
  /** MatMulNBits' accuracy_level (0 or absent: unset). */
  readonly accuracyLevel?: number;
  readonly names: NameAllocator;
  readonly isCancelled: () => boolean;
  /** Working arrays reused between the layers of one job (see {@link ScratchArrays}). */
  readonly scratch?: ScratchArrays;
}

function sqnrDb(w: Float32Array, q: Float32Array): number | null {
  let s = 0, e = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i] * w[i];
    e += (w[i] - q[i]) ** 2;
  }
  return sqnrOf(s, e);
}

function sqnrOf(signal: number, noise: number): number | null {
  return noise > 0 ? 10 * Math.log10(signal / noise) : null;
}

/**
 * Whether the rewrite stores the codes array itself rather than a transposed, shifted or packed
 * copy: an 8-bit container of a weight already stored [out, in]. Such codes must not be scratch.
 */
function keepsCodes(format: QuantizeFormat, target: WeightTarget): boolean {
  return target.transposed && (format === 'qdq' || format === 'static');
}

/**
 * The rewrite a layer gets. A 4-bit QDQ weight in a model below opset 21 (which has no INT4 type)
 * goes to MatMulNBits, the 4-bit form such a model can hold, unless no MatMulNBits block fits;
 * then its codes sit in an INT8 container.
 */
function write(model: OnnxModel, target: WeightTarget, q: QuantizedWeight, job: LayerJob): RewriteRecord {
  if (job.format === 'nbits') return rewriteMatMulNBits(model, target, q, job.names, { accuracyLevel: job.accuracyLevel });
  if (job.format === 'dynamic') return rewriteDynamicW8A8(model, target, q, job.names);
  if (job.format === 'static') {
    if (!job.activation) throw new Error(`${target.layer}: static W8A8 needs the activation's scale from calibration`);
    return rewriteStaticW8A8(model, target, q, job.activation.quant, job.names, job.activation.shared);
  }
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

/** Rounds W under the job's scheme: RTN, or GPTQ against H. */
function round(W: MatrixLike, H: MatrixLike | undefined, job: LayerJob, layer: string): QuantizedWeight {
  if (job.rounding === 'rtn') return quantizeRtn(W, job.scheme);
  if (!H) throw new Error(`${layer}: GPTQ needs the layer's Hessian from calibration`);
  return gptq(W, H, { scheme: job.scheme, isCancelled: job.isCancelled, actOrder: job.actOrder, percdamp: job.damping });
}

/** The columns `cols` of a row-major [rows, n] matrix. */
function takeColumns(W: MatrixLike, cols: readonly number[]): MatrixLike {
  const data = new Float32Array(W.rows * cols.length);
  for (let r = 0; r < W.rows; r++) for (let i = 0; i < cols.length; i++) data[r * cols.length + i] = W.data[r * W.cols + cols[i]];
  return { rows: W.rows, cols: cols.length, data };
}

/** H restricted to the channels `idx`: the Hessian of the regular part X_r. */
function subHessian(H: MatrixLike, idx: readonly number[]): MatrixLike {
  const k = idx.length;
  const data = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) data[i * k + j] = H.data[idx[i] * H.cols + idx[j]];
  return { rows: k, cols: k, data };
}

/**
 * Quantizes one layer (RTN, or GPTQ with its Hessian), rewrites it in `model`, and measures what
 * it cost: weight SQNR and, when H is known, the layer error tr(ΔW H ΔWᵀ) / tr(W H Wᵀ). With
 * `outliers` the layer is decomposed as in LLM.int8(): only the regular input channels are
 * rounded, so ΔW is zero in the outlier columns.
 */
export function quantizeLayer(model: OnnxModel, target: WeightTarget, job: LayerJob): LayerReport {
  // The decomposition keeps slices of W in the model, so only the plain path reads into scratch.
  const scratch = job.outliers?.length ? undefined : job.scratch;
  const W = { rows: target.outFeatures, cols: target.inFeatures, data: canonicalWeight(model, target, scratch) };
  const H = job.hessian === undefined ? undefined : { rows: W.cols, cols: W.cols, data: job.hessian };
  let deq: Float32Array | undefined;
  let sqnr: number | null;
  let rtnDeq: (() => Float32Array) | undefined;
  let record: RewriteRecord;
  if (job.outliers?.length) {
    const outlierSet = new Set(job.outliers);
    const regular = Array.from({ length: W.cols }, (_, j) => j).filter((j) => !outlierSet.has(j));
    const Hr = H && subHessian(H, regular);
    let qRegular: QuantizedWeight | undefined;
    const quantizeRegular = (Wr: MatrixLike): QuantizedWeight => (qRegular = round(Wr, Hr, job, target.layer));
    const mode = job.format === 'static' && job.activation ? { kind: 'static' as const, act: job.activation.quant, shared: job.activation.shared } : { kind: 'dynamic' as const };
    record = rewriteInt8Decomposition(model, target, W.data, job.outliers, quantizeRegular, mode, job.names);
    if (!qRegular) throw new Error(`${target.layer}: the decomposition quantized nothing`);
    // Put the regular columns' dequantized values back among the untouched outlier columns.
    const spread = (d: Float32Array): Float32Array => {
      const full = Float32Array.from(W.data);
      for (let r = 0; r < W.rows; r++) for (let i = 0; i < regular.length; i++) full[r * W.cols + regular[i]] = d[r * regular.length + i];
      return full;
    };
    deq = spread(dequantize(qRegular));
    sqnr = sqnrDb(W.data, deq);
    if (job.rounding === 'gptq') rtnDeq = () => spread(dequantize(quantizeRtn(takeColumns(W, regular), job.scheme)));
  } else if (job.rounding === 'rtn') {
    // RTN sums the weight SQNR while it rounds; the dequantized copy is only made for the layer error under H.
    const n = W.rows * W.cols;
    const codes = scratch && !keepsCodes(job.format, target) ? scratch.codes(n, job.scheme.symmetric) : undefined;
    const m = quantizeRtnMeasured(W, job.scheme, { codes });
    sqnr = sqnrOf(m.signal, m.noise);
    if (H) deq = dequantize(m.weight, scratch?.float32('dequantized', n));
    record = write(model, target, m.weight, job);
  } else {
    const q = round(W, H, job, target.layer);
    deq = dequantize(q, scratch?.float32('dequantized', W.rows * W.cols));
    sqnr = sqnrDb(W.data, deq);
    rtnDeq = () => dequantize(quantizeRtn(W, job.scheme));
    record = write(model, target, q, job);
  }
  let relativeError: number | null = null;
  let rtnRelativeError: number | null = null;
  if (H && deq) {
    // The output energy, the layer's error and GPTQ's RTN baseline in one sweep of H (or of its factor).
    const others: MatrixLike[] = [{ ...W, data: deq }];
    if (rtnDeq) others.push({ ...W, data: rtnDeq() });
    const [energy, error, rtnError] = HessianForm.of(H, { rows: job.calibrationRows }).traces(W, [undefined, ...others], { isCancelled: job.isCancelled });
    if (energy > 0) {
      relativeError = error / energy;
      if (rtnDeq) rtnRelativeError = rtnError / energy;
    }
  }
  return { ...record, inFeatures: W.cols, outFeatures: W.rows, relativeError, rtnRelativeError, calibrationRows: H ? job.calibrationRows ?? null : null, sqnrDb: sqnr, bitsPerWeight: (record.afterBytes * 8) / record.weights };
}
