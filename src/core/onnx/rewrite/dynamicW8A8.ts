import type { OnnxModel } from '../OnnxModel';
import { ElementType, type NodeMessage } from '../onnxMessages';
import type { QuantizedWeight } from '../../quant/QuantScheme';
import { toInOutLayout } from '../../quant/transposeWeight';
import { toUnsigned } from '../../quant/toUnsigned';
import { NameAllocator } from './NameAllocator';
import { replaceWeightedNode } from './replaceWeightedNode';
import type { RewriteRecord } from './RewriteRecord';
import type { WeightTarget } from './weightTargets';

/**
 * Replaces `MatMul(X, W)` (or a Gemm) by `com.microsoft::DynamicQuantizeMatMul(X, B, b_scale
 * [, b_zero_point])`: ONNX Runtime quantizes X to uint8 per call (per tensor, asymmetric) and
 * runs an integer GEMM against the stored codes B [K, N] with per-column (or per-tensor) scales.
 * It is one node where `DynamicQuantizeLinear` + `MatMulInteger` + `Cast` + `Mul` would be four,
 * and the contrib operator takes per-column weight scales, which `MatMulInteger` alone does not
 * rescale. A Gemm bias becomes an `Add` after it.
 *
 * @throws {RangeError} for grouped weights: the integer GEMM has one scale per column.
 */
export function rewriteDynamicW8A8(model: OnnxModel, target: WeightTarget, weight: QuantizedWeight, names = new NameAllocator(model)): RewriteRecord {
  const { rows, cols, granularity, bits, symmetric } = weight.layout;
  if (rows !== target.outFeatures || cols !== target.inFeatures) {
    throw new RangeError(`${target.layer}: quantized weight is ${rows}×${cols}, the layer needs ${target.outFeatures}×${target.inFeatures} [out, in]`);
  }
  if (granularity === 'group') throw new RangeError(`${target.layer}: dynamic W8A8 takes per-channel or per-tensor weight scales, not groups`);
  // Signed weights are stored shifted to uint8 with zero point 128 (the same dequantized values):
  // ONNX Runtime's u8s8 kernels on AVX2 sum pairs of products in saturating int16, which cost
  // a symmetric INT8 transformer 30× the output error of the u8u8 path in our tests.
  // B is [K, N] whatever the source orientation: the contrib op has no transB.
  const oriented = toInOutLayout(toUnsigned(weight));
  const codeType = ElementType.UINT8;
  const scaleDims = granularity === 'tensor' ? [] : [rows];
  const base = target.weight;
  const bName = names.fresh(`${base}_quantized`);
  const sName = names.fresh(`${base}_scale`);
  const zName = names.fresh(`${base}_zero_point`);
  model.setInitializer(bName, codeType, [cols, rows], oriented.codes);
  model.setInitializer(sName, ElementType.FLOAT, scaleDims, oriented.scales);
  model.setInitializer(zName, codeType, scaleDims, oriented.zeroPoints);
  const afterBytes = oriented.codes.byteLength + oriented.scales.byteLength + oriented.zeroPoints.byteLength;
  const output = target.node.output?.[0] ?? names.fresh(`${target.layer}_output`);
  const bias = target.opType === 'Gemm' ? target.node.input?.[2] ?? '' : '';
  const mmOut = bias ? names.fresh(`${target.layer}_DynamicQuantizeMatMul_output`) : output;
  const nodes: NodeMessage[] = [{
    name: target.node.name || names.fresh(`${target.layer}_DynamicQuantizeMatMul`),
    opType: 'DynamicQuantizeMatMul',
    domain: 'com.microsoft',
    input: [target.activation, bName, sName, zName],
    output: [mmOut],
  }];
  if (bias) nodes.push({ name: names.fresh(`${target.layer}_bias`), opType: 'Add', input: [mmOut, bias], output: [output] });
  model.ensureOpset('com.microsoft', 1);
  const removedFloat = replaceWeightedNode(model, target, nodes);
  return {
    layer: target.layer, weight: target.weight, opType: target.opType, kind: 'dynamic', bits,
    group: null, granularity, symmetric, container: 'uint8',
    weights: rows * cols, beforeBytes: target.storedBytes, afterBytes, removedFloat, nodes: nodes.map((n) => n.name ?? ''),
  };
}
