/**
 * Pruning one layer: magnitude, N:M or SparseGPT masks on a MatMul/Gemm weight, written as dense
 * zeros, after an optional channel permutation that the producer (or an inserted Gather) undoes.
 */
import { HessianForm } from '../../linalg/HessianForm';
import type { MatrixLike } from '../../linalg/Matrix';
import { Attr, type OnnxModel } from '../../onnx/OnnxModel';
import { ElementType, type NodeMessage } from '../../onnx/onnxMessages';
import { canonicalWeight, type NameAllocator, type WeightTarget } from '../../onnx/rewrite';
import { channelPermutation, magnitudePrune, nmMask, permuteColumns, permuteRows, permuteVector, sparsegpt, type WeightMatrix } from '../../prune';
import { transposeWeight } from '../../quant/transposeWeight';
import type { NMPattern, PermutationApplication, PruneLayerReport } from '../../../protocol/pruneTypes';

/** Elementwise ops of one input that act on each channel alone, so a channel permutation passes through them. */
const UNARY_PER_CHANNEL = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Softplus', 'Softsign', 'HardSigmoid', 'HardSwish', 'Gelu', 'Erf', 'Abs', 'Neg', 'Identity', 'Exp', 'Sqrt', 'Reciprocal', 'Mish', 'ThresholdedRelu', 'Celu']);
/** Binary elementwise ops through which a permutation passes when the other operand is a per-channel (or scalar) constant. */
const BINARY_PER_CHANNEL = new Set(['Add', 'Sub', 'Mul', 'Div']);

/** The canonical-orientation matrix [out, in] of a target as the model holds it now. */
export function currentWeight(model: OnnxModel, target: WeightTarget): WeightMatrix<Float32Array> {
  return { rows: target.outFeatures, cols: target.inFeatures, data: canonicalWeight(model, target) };
}

/** Writes W [out, in] back as the target's stored layout (MatMul's [in, out] is transposed back), float32 like the source. */
export function writeWeight(model: OnnxModel, target: WeightTarget, data: Float32Array): void {
  const dims = model.tensorInfo(target.weight)?.dims ?? (target.transposed ? [target.outFeatures, target.inFeatures] : [target.inFeatures, target.outFeatures]);
  model.setInitializer(target.weight, ElementType.FLOAT, dims, target.transposed ? data : transposeWeight(data, target.outFeatures, target.inFeatures));
}

/** H with rows and columns reordered like W's columns: H'[i, j] = H[perm[i], perm[j]]. */
function permuteHessian(h: Float64Array, perm: Int32Array): Float64Array {
  const k = perm.length;
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const src = perm[i] * k;
    for (let j = 0; j < k; j++) out[i * k + j] = h[src + perm[j]];
  }
  return out;
}

/** A per-channel constant (a bias, a scale) that must be permuted along with the producer's output channels. */
interface ChannelVector {
  readonly name: string;
  readonly dims: readonly number[];
}

/** A producer whose output channels can carry the permutation, and the constants along the way. */
interface ProducerPath {
  readonly producer: WeightTarget;
  readonly vectors: readonly ChannelVector[];
}

/**
 * Whether the constant `name` is a per-channel vector of `k` float32 values along the last axis
 * (or a single value, which needs no permutation), used by no other node. Returns the vector to
 * permute, null for a scalar, or a reason it does not qualify.
 */
function channelConstant(model: OnnxModel, name: string, k: number): ChannelVector | null | string {
  const info = model.tensorInfo(name);
  if (!info) return `${name} is not a constant`;
  const elements = info.dims.reduce((a, b) => a * b, 1);
  if (elements === 1) return null;
  if (info.dataType !== ElementType.FLOAT) return `${name} is not float32`;
  const last = info.dims[info.dims.length - 1];
  if (elements !== k || last !== k) return `${name} is not a per-channel vector of ${k}`;
  if (model.consumersOf(name).length !== 1) return `${name} is shared with other nodes`;
  return { name, dims: info.dims };
}

/**
 * Walks back from `target`'s activation through per-channel elementwise ops (Relu and the like, a
 * bias Add, a scale Mul) to a MatMul/Gemm with a constant weight. Conservative: every value on
 * the way must feed only the next node and be no graph output, and the producer's weight must be
 * its own; otherwise the reason is returned and the caller falls back to a Gather.
 */
function producerPath(model: OnnxModel, target: WeightTarget, all: readonly WeightTarget[]): ProducerPath | string {
  const k = target.inFeatures;
  const graphOutputs = new Set((model.graph.output ?? []).map((o) => o.name));
  const vectors: ChannelVector[] = [];
  let value = target.activation;
  for (let steps = 0; steps < 32; steps++) {
    if (graphOutputs.has(value)) return `${value} is a graph output`;
    if (model.consumersOf(value).length !== 1) return `${value} feeds more than one node`;
    const p = model.producerOf(value);
    if (!p) return `${value} is a graph input`;
    if ((p.domain ?? '') !== '') return `${p.opType ?? '?'} (${p.domain ?? ''}) sits between the producer and the layer`;
    const op = p.opType ?? '';
    const inputs = p.input ?? [];
    if (UNARY_PER_CHANNEL.has(op) && inputs.length === 1 && (p.output ?? []).length === 1) {
      value = inputs[0];
      continue;
    }
    if (BINARY_PER_CHANNEL.has(op) && inputs.length === 2) {
      const constIdx = model.tensorInfo(inputs[1]) ? 1 : model.tensorInfo(inputs[0]) ? 0 : -1;
      if (constIdx < 0) return `${op} ${p.name ?? ''} has no constant operand`;
      const c = channelConstant(model, inputs[constIdx], k);
      if (typeof c === 'string') return c;
      if (c) vectors.push(c);
      value = inputs[1 - constIdx];
      continue;
    }
    if (op === 'MatMul' || op === 'Gemm') {
      const producer = all.find((t) => t.node === p);
      if (!producer) return `the producing ${op} has no constant 2-D float32 weight`;
      if (producer.outFeatures !== k) return `the producing ${op} has ${producer.outFeatures} outputs, not ${k}`;
      if (model.consumersOf(producer.weight).length !== 1) return `the producer's weight ${producer.weight} is shared`;
      if (producer.weight === target.weight) return 'the producer shares the weight of the layer';
      const bias = inputs[2];
      if (op === 'Gemm' && bias) {
        const c = channelConstant(model, bias, k);
        if (typeof c === 'string') return c;
        if (c) vectors.push(c);
      }
      return { producer, vectors };
    }
    return `${op} sits between the producer and the layer`;
  }
  return 'the path to the producer is too long';
}

/**
 * Makes the permuted layer (new column j = old column perm[j]) compute the same function: the
 * producer's output channels (and the per-channel constants on the way) are reordered the same
 * way when there is an exact producer, else a Gather(X, perm, axis = −1) is inserted before the
 * layer. Returns how, or why neither applied. `target`'s own weight is not touched here.
 */
function applyInputPermutation(model: OnnxModel, target: WeightTarget, perm: Int32Array, all: readonly WeightTarget[], names: NameAllocator): { applied: PermutationApplication; reason?: string } {
  if (model.consumersOf(target.weight).length !== 1) return { applied: 'none', reason: `weight ${target.weight} is shared with other nodes` };
  if (perm.every((p, j) => p === j)) return { applied: 'none', reason: 'the search kept the original order' };
  const path = producerPath(model, target, all);
  if (typeof path !== 'string') {
    const w = currentWeight(model, path.producer);
    writeWeight(model, path.producer, permuteRows(w, perm).data);
    for (const v of path.vectors) model.setInitializer(v.name, ElementType.FLOAT, v.dims, permuteVector(model.getFloatTensor(v.name), perm));
    return { applied: 'producer' };
  }
  // Gather has taken a negative axis since opset 1, so axis −1 needs no knowledge of the rank.
  const indices = names.fresh(`${target.layer}_input_perm`);
  model.setInitializer(indices, ElementType.INT64, [perm.length], BigInt64Array.from(perm, (p) => BigInt(p)));
  const permuted = names.fresh(`${target.activation}_permuted`);
  const gather: NodeMessage = { name: names.fresh(`${target.layer}_input_gather`), opType: 'Gather', input: [target.activation, indices], output: [permuted], attribute: [Attr.int('axis', -1)] };
  const at = model.nodes.indexOf(target.node);
  model.addNode(gather, at < 0 ? undefined : at);
  const inputs = (target.node.input ??= []);
  inputs[0] = permuted;
  return { applied: 'gather', reason: path };
}

function zeroCount(data: Float32Array): number {
  let z = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 0) z++;
  return z;
}

/** Everything {@link pruneLayer} needs besides the model and the layer. */
export interface PruneLayerJob {
  readonly pattern: NMPattern | undefined;
  /** Search and apply a channel permutation first (N:M only). */
  readonly permute: boolean;
  /** Apply the permutation but keep every weight. */
  readonly keepWeights: boolean;
  /** SparseGPT's second-order update instead of magnitude. */
  readonly secondOrder: boolean;
  readonly sparsity: number;
  readonly hessian: { readonly hessian: Float64Array; readonly rows: number } | undefined;
  /** The layer's precomputed mask values (global magnitude), in the source's channel order. */
  readonly preset: Float32Array | undefined;
  readonly all: readonly WeightTarget[];
  readonly names: NameAllocator;
  readonly isCancelled: () => boolean;
}

/** Prunes one layer in `model` (after permuting its inputs when asked) and reports what it cost. */
export function pruneLayer(model: OnnxModel, target: WeightTarget, job: PruneLayerJob): PruneLayerReport {
  const { pattern } = job;
  let W = currentWeight(model, target);
  let hData = job.hessian?.hessian;
  let permutation: PruneLayerReport['permutation'];
  if (job.permute && pattern) {
    const cp = channelPermutation(W, pattern.n, pattern.m, { isCancelled: job.isCancelled });
    const how = applyInputPermutation(model, target, cp.perm, job.all, job.names);
    if (how.applied !== 'none') {
      W = permuteColumns(W, cp.perm);
      if (hData) hData = permuteHessian(hData, cp.perm);
    }
    permutation = { efficacy: cp.efficacy, keptBefore: cp.keptBefore, keptAfter: how.applied === 'none' ? cp.keptBefore : cp.keptAfter, applied: how.applied, reason: how.reason };
  }
  const H = hData === undefined ? undefined : { rows: W.cols, cols: W.cols, data: hData };
  /** The mask shape magnitude pruning would pick: N:M, or unstructured at the target sparsity. */
  const magnitude = (): Float32Array => (pattern ? nmMask(W, pattern.n, pattern.m).weights : magnitudePrune(W, job.sparsity).weights);
  let pruned: Float32Array;
  let magnitudeRelativeError: number | null = null;
  if (job.keepWeights) pruned = W.data;
  else if (job.preset) pruned = job.preset;
  else if (job.secondOrder) {
    if (!H) throw new Error(`${target.layer}: SparseGPT needs the layer's Hessian from calibration`);
    pruned = sparsegpt(W, H, { ...(pattern ? { pattern } : { sparsity: job.sparsity }), isCancelled: job.isCancelled }).weights;
  } else pruned = magnitude();
  let relativeError: number | null = null;
  if (H) {
    const others: MatrixLike[] = [{ ...W, data: pruned }];
    const withMagnitude = job.secondOrder === true && !job.keepWeights;
    if (withMagnitude) others.push({ ...W, data: magnitude() });
    const [energy, error, magnitudeError] = HessianForm.of(H, { rows: job.hessian?.rows }).traces(W, [undefined, ...others], { isCancelled: job.isCancelled });
    if (energy > 0) {
      relativeError = error / energy;
      if (withMagnitude) magnitudeRelativeError = magnitudeError / energy;
    }
  }
  writeWeight(model, target, pruned);
  return {
    layer: target.layer,
    weight: target.weight,
    inFeatures: target.inFeatures,
    outFeatures: target.outFeatures,
    sparsity: pruned.length ? zeroCount(pruned) / pruned.length : 0,
    relativeError,
    magnitudeRelativeError,
    calibrationRows: H ? job.hessian?.rows ?? null : null,
    permutation,
  };
}

