import { Attr, type OnnxModel } from '../OnnxModel';
import { ElementType, type AttributeMessage } from '../onnxMessages';
import type { QuantizedWeight } from '../../quant/QuantScheme';
import { toInOutLayout } from '../../quant/transposeWeight';
import { NameAllocator } from './NameAllocator';
import { packInt4 } from './packInt4';
import { replaceWeightedNode } from './replaceWeightedNode';
import type { RewriteRecord } from './RewriteRecord';
import type { WeightTarget } from './weightTargets';

/** Blocked `DequantizeLinear` (`block_size`) and the INT4/UINT4 types arrived in opset 21. */
export const BLOCKED_DQ_OPSET = 21;

/** Where the `DequantizeLinear` node comes from, which depends on the model's default opset. */
type DqDomain = '' | 'com.microsoft';

/**
 * Which `DequantizeLinear` a model of default opset `opset` can use for this weight: the standard
 * one from opset 13 (per-axis) or 10 (per-tensor); below that ONNX Runtime's contrib operator of
 * the same name, which takes `axis` too. The default opset is never raised: that would change
 * the meaning of the model's other nodes.
 */
function dqDomain(opset: number, perTensor: boolean): DqDomain {
  return opset >= 13 || (perTensor && opset >= 10) ? '' : 'com.microsoft';
}

/** Whether {@link rewriteWeightOnlyQdq} can write `weight` into a model of default opset `opset`. */
export function qdqSupports(weight: QuantizedWeight, opset: number): { readonly ok: true } | { readonly ok: false; readonly reason: string } {
  if (weight.layout.granularity === 'group' && opset < BLOCKED_DQ_OPSET) {
    return { ok: false, reason: `grouped DequantizeLinear needs opset ${BLOCKED_DQ_OPSET}; the model imports opset ${opset}` };
  }
  return { ok: true };
}

/**
 * Replaces the float weight W of a MatMul (or Gemm) by codes, float32 scales (and zero points
 * when asymmetric) and a `DequantizeLinear` node whose output feeds the node in W's place:
 * weight-only quantization that any runtime executes. Per-channel scales lie along the output
 * axis (axis 1 of a MatMul's [in, out] weight, axis 0 of a Gemm's transposed one); groups become
 * `block_size` along the input axis (opset ≥ 21). Codes of fewer than 8 bits go into an 8-bit
 * container, except 4-bit codes in an opset-21 model, which are stored as INT4/UINT4.
 *
 * @throws {RangeError} when the model's opset cannot express the weight (see {@link qdqSupports}).
 */
export function rewriteWeightOnlyQdq(model: OnnxModel, target: WeightTarget, weight: QuantizedWeight, names = new NameAllocator(model)): RewriteRecord {
  const { rows, cols, granularity, groupSize, groupsPerRow, bits, symmetric } = weight.layout;
  if (rows !== target.outFeatures || cols !== target.inFeatures) {
    throw new RangeError(`${target.layer}: quantized weight is ${rows}×${cols}, the layer needs ${target.outFeatures}×${target.inFeatures} [out, in]`);
  }
  const opset = model.opsetVersion() ?? 1;
  const support = qdqSupports(weight, opset);
  if (!support.ok) throw new RangeError(`${target.layer}: ${support.reason}`);
  const int4 = bits === 4 && opset >= BLOCKED_DQ_OPSET;
  const codeType = int4 ? (symmetric ? ElementType.INT4 : ElementType.UINT4) : symmetric ? ElementType.INT8 : ElementType.UINT8;

  // Stored orientation: a MatMul's [in, out] needs the transpose of our [out, in].
  const oriented = target.transposed ? { codes: weight.codes, scales: weight.scales, zeroPoints: weight.zeroPoints } : toInOutLayout(weight);
  const codeDims = target.transposed ? [rows, cols] : [cols, rows];
  const attrs: AttributeMessage[] = [];
  let scaleDims: number[];
  if (granularity === 'tensor') scaleDims = [];
  else if (granularity === 'channel') {
    scaleDims = [rows];
    attrs.push(Attr.int('axis', target.transposed ? 0 : 1));
  } else {
    scaleDims = target.transposed ? [rows, groupsPerRow] : [groupsPerRow, rows];
    attrs.push(Attr.int('axis', target.transposed ? 1 : 0), Attr.int('block_size', groupSize));
  }
  const pack = (v: Int8Array | Uint8Array): Uint8Array | Int8Array => (int4 ? packInt4(v) : v);

  const base = target.weight;
  const qName = names.fresh(`${base}_quantized`);
  const sName = names.fresh(`${base}_scale`);
  const codes = pack(oriented.codes);
  model.setInitializer(qName, codeType, codeDims, codes);
  model.setInitializer(sName, ElementType.FLOAT, scaleDims, oriented.scales);
  const inputs = [qName, sName];
  let afterBytes = codes.byteLength + oriented.scales.byteLength;
  if (!symmetric) {
    const zName = names.fresh(`${base}_zero_point`);
    const zps = pack(oriented.zeroPoints);
    model.setInitializer(zName, codeType, scaleDims, zps);
    inputs.push(zName);
    afterBytes += zps.byteLength;
  }
  const domain = dqDomain(opset, granularity === 'tensor');
  if (domain !== '') model.ensureOpset(domain, 1);
  const dqOut = names.fresh(`${base}_dequantized`);
  const dq = { name: names.fresh(`${base}_DequantizeLinear`), opType: 'DequantizeLinear', input: inputs, output: [dqOut], ...(domain ? { domain } : {}), ...(attrs.length ? { attribute: attrs } : {}) };
  const consumer = { ...target.node, input: (target.node.input ?? []).map((x, i) => (i === 1 ? dqOut : x)) };
  const removedFloat = replaceWeightedNode(model, target, [dq, consumer]);
  return {
    layer: target.layer, weight: target.weight, opType: target.opType, kind: 'qdq', bits,
    group: granularity === 'group' ? groupSize : null, granularity, symmetric,
    container: int4 ? (symmetric ? 'int4' : 'uint4') : symmetric ? 'int8' : 'uint8',
    weights: rows * cols, beforeBytes: target.storedBytes, afterBytes, removedFloat,
    nodes: [dq.name, consumer.name ?? ''],
  };
}
