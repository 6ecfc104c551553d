import { Attr, type OnnxModel } from '../OnnxModel';
import { ElementType, type AttributeMessage, type NodeMessage } from '../onnxMessages';
import type { QuantizedWeight } from '../../quant/QuantScheme';
import { toInOutLayout } from '../../quant/transposeWeight';
import { toUnsigned } from '../../quant/toUnsigned';
import type { NameAllocator } from './NameAllocator';
import { replaceWeightedNode } from './replaceWeightedNode';
import type { RewriteRecord } from './RewriteRecord';
import type { WeightTarget } from './weightTargets';

/** Per-axis `QuantizeLinear`/`DequantizeLinear` (the `axis` attribute) arrived in opset 13. */
export const PER_AXIS_QDQ_OPSET = 13;
/** Per-tensor `QuantizeLinear`/`DequantizeLinear` arrived in opset 10. */
export const PER_TENSOR_QDQ_OPSET = 10;

/** The zero point of every activation (and weight) quantized here: the middle of uint8. */
export const UINT8_MID = 128;

/** How one activation is quantized: a float32 scale and a uint8 zero point. */
export interface ActivationQuant {
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * The static quantization of an activation whose calibrated absolute maximum is `absmax`.
 * Calibration gives only the absmax per channel (no minimum), so the grid is symmetric:
 * scale = f32(absmax / 127) with zero point 128, which maps [−absmax, absmax] onto codes 1..255.
 * The codes are uint8 rather than int8 with zero point 0 (the same grid) because ONNX Runtime's
 * u8s8 integer kernels on AVX2 add pairs of products in saturating int16; see dynamicW8A8.ts. An
 * absmax of 0 (a channel that never fired) gets scale 1 so that the scale stays positive, as
 * `QuantizeLinear` requires; every value then maps to the zero point anyway.
 *
 * @throws {RangeError} for a negative or non-finite absmax.
 */
export function activationQuant(absmax: number): ActivationQuant {
  if (!Number.isFinite(absmax) || absmax < 0) throw new RangeError(`activation absmax must be finite and ≥ 0, got ${absmax}`);
  const scale = Math.fround(absmax / 127);
  // A denormal absmax would round the scale to 0: treat it as a silent activation as well.
  return { scale: scale > 0 ? scale : 1, zeroPoint: UINT8_MID };
}

/**
 * Where the `QuantizeLinear`/`DequantizeLinear` a node needs come from: the standard operators when
 * the model's default opset has them (per-tensor from 10, per-axis from 13), otherwise ONNX
 * Runtime's contrib operators of the same names, which take `axis` too. The default opset is never
 * raised: that would change the meaning of the model's other nodes (PP-OCR exports import opset 9).
 */
export function qdqDomain(model: OnnxModel, perAxis: boolean): '' | 'com.microsoft' {
  const opset = model.opsetVersion() ?? 1;
  if (opset >= (perAxis ? PER_AXIS_QDQ_OPSET : PER_TENSOR_QDQ_OPSET)) return '';
  model.ensureOpset('com.microsoft', 1);
  return 'com.microsoft';
}

/**
 * The quantized activations of a graph: for each activation X, one
 * `QuantizeLinear(X, s, zp) → DequantizeLinear` pair whose output the rewritten layers read.
 * Layers that share X (q, k and v after a norm) share the pair, which is also what lets ONNX
 * Runtime fuse the one `QuantizeLinear` into each integer MatMul.
 *
 * One activation has one quantization: the first call for X decides its scale and later calls
 * get the same pair whatever they pass. The caller computes one absmax per activation (the max
 * over the layers that read it; calibration reports identical absmax for layers that share X).
 */
export class ActivationQdq {
  private readonly pairs = new Map<string, { readonly dequantized: string; readonly quant: ActivationQuant; readonly nodes: readonly string[] }>();

  constructor(private readonly model: OnnxModel, private readonly names: NameAllocator) {}

  /**
   * The name of X's dequantized copy, inserting `QuantizeLinear` and `DequantizeLinear` on the
   * first call for X: right before X's first consumer, or (without consumers yet) right after its
   * producer, or at the start for a graph input, so the node order stays topological.
   *
   * @throws {RangeError} for a non-positive or non-finite scale or a zero point outside uint8.
   */
  dequantized(activation: string, quant: ActivationQuant): string {
    const known = this.pairs.get(activation);
    if (known) return known.dequantized;
    if (!(quant.scale > 0) || !Number.isFinite(quant.scale)) throw new RangeError(`${activation}: activation scale must be positive and finite, got ${quant.scale}`);
    if (!Number.isInteger(quant.zeroPoint) || quant.zeroPoint < 0 || quant.zeroPoint > 255) throw new RangeError(`${activation}: uint8 zero point must be an integer in 0..255, got ${quant.zeroPoint}`);
    const { model, names } = this;
    const sName = names.fresh(`${activation}_scale`);
    const zName = names.fresh(`${activation}_zero_point`);
    const qName = names.fresh(`${activation}_quantized`);
    const dqName = names.fresh(`${activation}_dequantized`);
    // The scale is stored as float32: use that value everywhere (the record reports it too).
    const stored: ActivationQuant = { scale: Math.fround(quant.scale), zeroPoint: quant.zeroPoint };
    model.setInitializer(sName, ElementType.FLOAT, [], Float32Array.of(stored.scale));
    model.setInitializer(zName, ElementType.UINT8, [], Uint8Array.of(stored.zeroPoint));
    const domain = qdqDomain(model, false);
    const q: NodeMessage = { name: names.fresh(`${activation}_QuantizeLinear`), opType: 'QuantizeLinear', input: [activation, sName, zName], output: [qName], ...(domain ? { domain } : {}) };
    const dq: NodeMessage = { name: names.fresh(`${activation}_DequantizeLinear`), opType: 'DequantizeLinear', input: [qName, sName, zName], output: [dqName], ...(domain ? { domain } : {}) };
    model.addNode(q, this.insertionIndex(activation));
    model.addNode(dq, model.nodes.indexOf(q) + 1);
    this.pairs.set(activation, { dequantized: dqName, quant: stored, nodes: [q.name ?? '', dq.name ?? ''] });
    return dqName;
  }

  /** The quantization X got (from the first call), or undefined when X is not quantized. */
  quantOf(activation: string): ActivationQuant | undefined {
    return this.pairs.get(activation)?.quant;
  }

  /** The names of X's `QuantizeLinear` and `DequantizeLinear` nodes (empty when X is not quantized). */
  nodesOf(activation: string): readonly string[] {
    return this.pairs.get(activation)?.nodes ?? [];
  }

  private insertionIndex(activation: string): number {
    const nodes = this.model.nodes;
    const first = nodes.findIndex((n) => n.input?.includes(activation));
    if (first >= 0) return first;
    const producer = nodes.findIndex((n) => n.output?.includes(activation));
    return producer + 1;
  }
}

/** A weight written as uint8 codes + scales + zero points and the `DequantizeLinear` that reads them. */
export interface WeightDequantize {
  readonly node: NodeMessage;
  /** The dequantized weight, in the stored orientation. */
  readonly output: string;
  /** Bytes of the codes, scales and zero points. */
  readonly bytes: number;
}

/**
 * Stores a per-channel or per-tensor 8-bit W [out, in] as uint8 codes (a symmetric weight shifted
 * to zero point 128, the same values: see {@link activationQuant} for why uint8), float32 scales
 * and uint8 zero points, and returns the `DequantizeLinear` reading them. `transposed` keeps the
 * codes [out, in] with per-channel `axis = 0` (a Gemm with transB); otherwise they are a MatMul's
 * [in, out] with `axis = 1`. The caller places the node.
 */
export function addWeightDequantize(model: OnnxModel, names: NameAllocator, base: string, weight: QuantizedWeight, transposed: boolean): WeightDequantize {
  const { rows, cols, granularity } = weight.layout;
  const unsigned = toUnsigned(weight);
  const oriented = transposed ? unsigned : toInOutLayout(unsigned);
  const scaleDims = granularity === 'tensor' ? [] : [rows];
  const qName = names.fresh(`${base}_quantized`);
  const sName = names.fresh(`${base}_scale`);
  const zName = names.fresh(`${base}_zero_point`);
  model.setInitializer(qName, ElementType.UINT8, transposed ? [rows, cols] : [cols, rows], oriented.codes);
  model.setInitializer(sName, ElementType.FLOAT, scaleDims, oriented.scales);
  model.setInitializer(zName, ElementType.UINT8, scaleDims, oriented.zeroPoints);
  const attrs: AttributeMessage[] = granularity === 'channel' ? [Attr.int('axis', transposed ? 0 : 1)] : [];
  const output = names.fresh(`${base}_dequantized`);
  const domain = qdqDomain(model, granularity === 'channel');
  const node: NodeMessage = {
    name: names.fresh(`${base}_DequantizeLinear`), opType: 'DequantizeLinear', input: [qName, sName, zName], output: [output],
    ...(attrs.length ? { attribute: attrs } : {}), ...(domain ? { domain } : {}),
  };
  return { node, output, bytes: oriented.codes.byteLength + oriented.scales.byteLength + oriented.zeroPoints.byteLength };
}

/** Throws unless `weight` is an 8-bit per-channel or per-tensor weight of `rows`×`cols` [out, in]. */
export function requireW8(layer: string, weight: QuantizedWeight, rows: number, cols: number, what: string): void {
  const l = weight.layout;
  if (l.rows !== rows || l.cols !== cols) throw new RangeError(`${layer}: quantized weight is ${l.rows}×${l.cols}, ${what} needs ${rows}×${cols} [out, in]`);
  if (l.granularity === 'group') throw new RangeError(`${layer}: W8A8 takes per-channel or per-tensor weight scales, not groups`);
  if (l.bits !== 8) throw new RangeError(`${layer}: W8A8 takes 8-bit weights, not ${l.bits}-bit`);
}

/**
 * Static W8A8 in QDQ form: the layer reads `DequantizeLinear(QuantizeLinear(X))` with the
 * calibrated activation scale `act` (shared with other layers reading X through `shared`) and a
 * dequantized uint8 weight. ONNX Runtime's QDQ fusion turns the pattern into an integer MatMul
 * (u8u8) at the `all` level, and any runtime can execute it as written. A Gemm stays a Gemm (with
 * its transB and bias) over the dequantized operands.
 *
 * Below opset 13 (10 for per-tensor) the nodes come from ONNX Runtime's contrib domain.
 *
 * @throws {RangeError} for a weight of the wrong shape, grouped or not 8-bit.
 */
export function rewriteStaticW8A8(model: OnnxModel, target: WeightTarget, weight: QuantizedWeight, act: ActivationQuant, names: NameAllocator, shared: ActivationQdq): RewriteRecord {
  requireW8(target.layer, weight, target.outFeatures, target.inFeatures, 'the layer');
  const { rows, cols, granularity, symmetric } = weight.layout;
  const w = addWeightDequantize(model, names, target.weight, weight, target.transposed);
  const consumer: NodeMessage = { ...target.node, input: (target.node.input ?? []).map((x, i) => (i === 1 ? w.output : x)) };
  const removedFloat = replaceWeightedNode(model, target, [w.node, consumer]);
  // After the replacement, so that the activation pair lands before the consumer's new position.
  const xdq = shared.dequantized(target.activation, act);
  (consumer.input ?? [])[0] = xdq;
  return {
    layer: target.layer, weight: target.weight, opType: target.opType, kind: 'static', bits: 8,
    group: null, granularity, symmetric, container: 'uint8',
    weights: rows * cols, beforeBytes: target.storedBytes, afterBytes: w.bytes, removedFloat,
    nodes: [...shared.nodesOf(target.activation), w.node.name ?? '', consumer.name ?? ''],
    activation: shared.quantOf(target.activation) ?? act,
  };
}
