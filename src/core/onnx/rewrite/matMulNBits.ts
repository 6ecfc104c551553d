import { Attr, type OnnxModel } from '../OnnxModel';
import { ElementType, type NodeMessage } from '../onnxMessages';
import type { QuantizedWeight } from '../../quant/QuantScheme';
import { NameAllocator } from './NameAllocator';
import { nbitsBlockSize, packMatMulNBits } from './packMatMulNBits';
import { replaceWeightedNode } from './replaceWeightedNode';
import type { RewriteRecord } from './RewriteRecord';
import type { WeightTarget } from './weightTargets';

/** Options of {@link rewriteMatMulNBits}. */
export interface NBitsOptions {
  /**
   * MatMulNBits' `accuracy_level`: the lowest precision ONNX Runtime may compute in (0 unset,
   * 1 fp32, 2 fp16, 3 bf16, 4 int8). At 4 the CPU kernel quantizes activations per block to int8
   * and multiplies in integer instructions instead of unpacking the weights to float.
   */
  readonly accuracyLevel?: number;
}

/** The accuracy levels MatMulNBits defines. */
export const NBITS_ACCURACY_LEVELS: readonly number[] = [0, 1, 2, 3, 4];

/**
 * Replaces `MatMul(X, W)` (or `Gemm(X, W[, C])`) by `com.microsoft::MatMulNBits(X, B, scales
 * [, zero_points])` with bits = 4 (followed by `Add(·, C)` for a Gemm bias). `weight` is the 4-bit
 * quantization of the target's canonical W [out, in] (RTN or GPTQ); grouped weights keep their
 * group size as block size, per-channel ones get a single padded block. The main node keeps the
 * original node's name and output, so downstream names are unchanged.
 */
export function rewriteMatMulNBits(model: OnnxModel, target: WeightTarget, weight: QuantizedWeight, names = new NameAllocator(model), options: NBitsOptions = {}): RewriteRecord {
  const level = options.accuracyLevel ?? 0;
  if (!NBITS_ACCURACY_LEVELS.includes(level)) throw new RangeError(`MatMulNBits accuracy_level must be one of ${NBITS_ACCURACY_LEVELS.join(', ')}; got ${level}`);
  const { rows, cols } = weight.layout;
  if (rows !== target.outFeatures || cols !== target.inFeatures) {
    throw new RangeError(`${target.layer}: quantized weight is ${rows}×${cols}, the layer needs ${target.outFeatures}×${target.inFeatures} [out, in]`);
  }
  const blockSize = nbitsBlockSize(weight);
  const p = packMatMulNBits(weight, blockSize);
  const base = target.weight;
  const bName = names.fresh(`${base}_Q4`);
  const sName = names.fresh(`${base}_scales`);
  model.setInitializer(bName, ElementType.UINT8, [p.N, p.kBlocks, p.blobSize], p.B);
  model.setInitializer(sName, ElementType.FLOAT, [p.N * p.kBlocks], p.scales);
  const inputs = [target.activation, bName, sName];
  let afterBytes = p.B.length + p.scales.byteLength;
  if (p.zeroPoints) {
    const zName = names.fresh(`${base}_zero_points`);
    model.setInitializer(zName, ElementType.UINT8, [p.zeroPoints.length], p.zeroPoints);
    inputs.push(zName);
    afterBytes += p.zeroPoints.length;
  }
  const output = target.node.output?.[0] ?? names.fresh(`${target.layer}_output`);
  const bias = target.opType === 'Gemm' ? target.node.input?.[2] ?? '' : '';
  const mmOut = bias ? names.fresh(`${target.layer}_MatMulNBits_output`) : output;
  const nodes: NodeMessage[] = [{
    name: target.node.name || names.fresh(`${target.layer}_MatMulNBits`),
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    input: inputs,
    output: [mmOut],
    attribute: [Attr.int('K', p.K), Attr.int('N', p.N), Attr.int('bits', 4), Attr.int('block_size', blockSize), ...(level ? [Attr.int('accuracy_level', level)] : [])],
  }];
  if (bias) nodes.push({ name: names.fresh(`${target.layer}_bias`), opType: 'Add', input: [mmOut, bias], output: [output] });
  model.ensureOpset('com.microsoft', 1);
  const removedFloat = replaceWeightedNode(model, target, nodes);
  return {
    layer: target.layer, weight: target.weight, opType: target.opType, kind: 'nbits', bits: 4,
    group: weight.layout.granularity === 'group' ? weight.layout.groupSize : null,
    granularity: weight.layout.granularity, symmetric: weight.layout.symmetric,
    container: `uint4 blocks of ${blockSize}`, weights: rows * cols,
    beforeBytes: target.storedBytes, afterBytes, removedFloat, nodes: nodes.map((n) => n.name ?? ''),
  };
}
