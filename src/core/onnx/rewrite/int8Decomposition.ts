import { Attr, type OnnxModel } from '../OnnxModel';
import { ElementType, type NodeMessage } from '../onnxMessages';
import type { MatrixLike } from '../../linalg/Matrix';
import type { QuantizedWeight } from '../../quant/QuantScheme';
import { toInOutLayout } from '../../quant/transposeWeight';
import { toUnsigned } from '../../quant/toUnsigned';
import type { NameAllocator } from './NameAllocator';
import { replaceWeightedNode } from './replaceWeightedNode';
import type { RewriteRecord } from './RewriteRecord';
import { addWeightDequantize, requireW8, type ActivationQdq, type ActivationQuant } from './staticW8A8';
import type { WeightTarget } from './weightTargets';

/** LLM.int8()'s outlier magnitude: input channels whose activation absmax reaches 6 stay in float. */
export const INT8_OUTLIER_THRESHOLD = 6;

/**
 * The input channels LLM.int8() (Dettmers et al. 2022) keeps in float: those whose calibrated
 * activation absmax is at least `threshold` (the paper's α = 6), in increasing order. NaN
 * entries are not outliers (a NaN absmax says calibration saw NaN, which no split repairs).
 */
export function outlierChannels(absmax: ArrayLike<number>, threshold = INT8_OUTLIER_THRESHOLD): number[] {
  const out: number[] = [];
  for (let i = 0; i < absmax.length; i++) if (absmax[i] >= threshold) out.push(i);
  return out;
}

/** How the regular (non-outlier) part runs: dynamic per-call activation scales, or a calibrated static one. */
export type DecompositionMode =
  | { readonly kind: 'dynamic' }
  | { readonly kind: 'static'; readonly act: ActivationQuant; readonly shared: ActivationQdq };

/**
 * LLM.int8() mixed decomposition of `Y = X·Wᵀ (+ b)` over the input channels:
 *
 * ```
 * X_o = Gather(X, outliers, axis = −1)      X_r = Gather(X, regular, axis = −1)
 * Y   = MatMul(X_o, W_o) + INT8(X_r, W_r) (+ b)
 * ```
 *
 * W_o [n_o, N] holds the outlier rows of the [in, out] weight in float32, so the few large
 * activation channels never meet an 8-bit grid; W_r [n_r, N] holds the rest, quantized by
 * `quantizeRegular` (given the regular columns of W as [out, n_r]; 8-bit, per-channel or per-tensor).
 * The regular part is `com.microsoft::DynamicQuantizeMatMul` in `dynamic` mode (as
 * rewriteDynamicW8A8 writes it) or `DequantizeLinear(QuantizeLinear(X_r))` × `DequantizeLinear(W_r)`
 * in `static` mode, where X_r is an activation of its own: `mode.act` must come from the absmax of
 * the regular channels only, which the caller computes. Both keep uint8 codes with zero point 128
 * for a symmetric weight (see dynamicW8A8.ts on ONNX Runtime's saturating u8s8 kernels). The last
 * node writes the original output name; the float weight is dropped when nothing else reads it.
 *
 * `W` is the canonical [out, in] weight (see canonicalWeight). Outlier indices are taken sorted
 * and deduplicated. Gather with a negative axis is valid from opset 1, so the dynamic mode runs at
 * any opset; the static mode takes the contrib QuantizeLinear/DequantizeLinear below opset 13, as
 * rewriteStaticW8A8 does.
 *
 * @throws {RangeError} when there are no outliers (use the plain rewrite), when every channel is
 *   an outlier (nothing to quantize), for an index out of range, a weight of the wrong size, or
 *   a regular weight that is not 8-bit per-channel or per-tensor of [out, n_r].
 */
export function rewriteInt8Decomposition(
  model: OnnxModel,
  target: WeightTarget,
  W: Float32Array,
  outliers: readonly number[],
  quantizeRegular: (Wreg: MatrixLike) => QuantizedWeight,
  mode: DecompositionMode,
  names: NameAllocator,
): RewriteRecord {
  const { layer, inFeatures: K, outFeatures: N } = target;
  if (W.length !== N * K) throw new RangeError(`${layer}: weight has ${W.length} values, the layer needs ${N}×${K} [out, in]`);
  const outs = [...new Set(outliers)].sort((a, b) => a - b);
  for (const c of outs) if (!Number.isInteger(c) || c < 0 || c >= K) throw new RangeError(`${layer}: outlier channel ${c} is not an input channel (0..${K - 1})`);
  if (outs.length === 0) throw new RangeError(`${layer}: no outlier channels; use the plain W8A8 rewrite`);
  if (outs.length === K) throw new RangeError(`${layer}: all ${K} input channels are outliers; nothing is left to quantize`);
  const isOutlier = new Uint8Array(K);
  for (const c of outs) isOutlier[c] = 1;
  const regular: number[] = [];
  for (let c = 0; c < K; c++) if (!isOutlier[c]) regular.push(c);
  const nO = outs.length, nR = regular.length;

  // W_o [n_o, N] is a MatMul operand: row j is input channel outs[j] of every output.
  const Wo = new Float32Array(nO * N);
  for (let j = 0; j < nO; j++) for (let n = 0; n < N; n++) Wo[j * N + n] = W[n * K + outs[j]];
  const Wreg = new Float32Array(N * nR);
  for (let n = 0; n < N; n++) for (let j = 0; j < nR; j++) Wreg[n * nR + j] = W[n * K + regular[j]];
  const q = quantizeRegular({ rows: N, cols: nR, data: Wreg });
  requireW8(layer, q, N, nR, 'the regular part');

  const base = target.weight;
  const x = target.activation;
  const idxO = names.fresh(`${base}_outlier_channels`);
  const idxR = names.fresh(`${base}_regular_channels`);
  const woName = names.fresh(`${base}_outlier_rows`);
  model.setInitializer(idxO, ElementType.INT64, [nO], BigInt64Array.from(outs, BigInt));
  model.setInitializer(idxR, ElementType.INT64, [nR], BigInt64Array.from(regular, BigInt));
  model.setInitializer(woName, ElementType.FLOAT, [nO, N], Wo);
  let afterBytes = Wo.byteLength + 8 * K;

  const xo = names.fresh(`${layer}_outlier_input`);
  const xr = names.fresh(`${layer}_regular_input`);
  const yo = names.fresh(`${layer}_outlier_output`);
  const yr = names.fresh(`${layer}_regular_output`);
  const output = target.node.output?.[0] ?? names.fresh(`${layer}_output`);
  const bias = target.opType === 'Gemm' ? target.node.input?.[2] ?? '' : '';
  const sum = bias ? names.fresh(`${layer}_decomposed_sum`) : output;
  const nodes: NodeMessage[] = [
    { name: names.fresh(`${layer}_outlier_Gather`), opType: 'Gather', input: [x, idxO], output: [xo], attribute: [Attr.int('axis', -1)] },
    { name: names.fresh(`${layer}_regular_Gather`), opType: 'Gather', input: [x, idxR], output: [xr], attribute: [Attr.int('axis', -1)] },
    { name: names.fresh(`${layer}_outlier_MatMul`), opType: 'MatMul', input: [xo, woName], output: [yo] },
  ];
  let regularMatMul: NodeMessage;
  if (mode.kind === 'dynamic') {
    // The contrib operator takes B as [K, N] with per-column scales, like rewriteDynamicW8A8.
    const oriented = toInOutLayout(toUnsigned(q));
    const scaleDims = q.layout.granularity === 'tensor' ? [] : [N];
    const bName = names.fresh(`${base}_quantized`);
    const sName = names.fresh(`${base}_scale`);
    const zName = names.fresh(`${base}_zero_point`);
    model.setInitializer(bName, ElementType.UINT8, [nR, N], oriented.codes);
    model.setInitializer(sName, ElementType.FLOAT, scaleDims, oriented.scales);
    model.setInitializer(zName, ElementType.UINT8, scaleDims, oriented.zeroPoints);
    afterBytes += oriented.codes.byteLength + oriented.scales.byteLength + oriented.zeroPoints.byteLength;
    regularMatMul = { name: names.fresh(`${layer}_regular_DynamicQuantizeMatMul`), opType: 'DynamicQuantizeMatMul', domain: 'com.microsoft', input: [xr, bName, sName, zName], output: [yr] };
    nodes.push(regularMatMul);
    model.ensureOpset('com.microsoft', 1);
  } else {
    const w = addWeightDequantize(model, names, base, q, false);
    afterBytes += w.bytes;
    // X_r is fixed up to its dequantized copy once the Gather producing it is in the graph.
    regularMatMul = { name: names.fresh(`${layer}_regular_MatMul`), opType: 'MatMul', input: [xr, w.output], output: [yr] };
    nodes.push(w.node, regularMatMul);
  }
  const add: NodeMessage = { name: names.fresh(`${layer}_decomposed_Add`), opType: 'Add', input: [yo, yr], output: [sum] };
  nodes.push(add);
  if (bias) nodes.push({ name: names.fresh(`${layer}_bias`), opType: 'Add', input: [sum, bias], output: [output] });
  const removedFloat = replaceWeightedNode(model, target, nodes);
  let activation: ActivationQuant | undefined;
  const nodeNames = nodes.map((n) => n.name ?? '');
  if (mode.kind === 'static') {
    (regularMatMul.input ?? [])[0] = mode.shared.dequantized(xr, mode.act);
    activation = mode.shared.quantOf(xr);
    nodeNames.splice(2, 0, ...mode.shared.nodesOf(xr));
  }
  const { granularity, symmetric } = q.layout;
  return {
    layer, weight: target.weight, opType: target.opType, kind: 'decomposed', bits: 8,
    group: null, granularity, symmetric, container: 'uint8 + float',
    weights: N * K, beforeBytes: target.storedBytes, afterBytes, removedFloat, nodes: nodeNames,
    outlierChannels: outs,
    ...(activation ? { activation } : {}),
  };
}
