/**
 * Reads what a generation benchmark needs from a decoder graph with a KV cache (ONNX Runtime
 * GenAI's and Optimum's names): the cache's geometry, the vocabulary size, and the weight bytes
 * one decode step reads.
 */
import { FormatError } from '../FormatError';
import { intAttribute, type OnnxModel } from './OnnxModel';
import { ElementType, type NodeMessage, type ValueInfoMessage } from './onnxMessages';
import { rawByteLength } from './tensorData';

/** The cache of a decoder graph and the names of its inputs. */
export interface DecoderGraph {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** Element type of the cache (float or float16). */
  readonly kvElemType: number;
  /** Bytes of one cached element. */
  readonly kvElementBytes: number;
  readonly hasAttentionMask: boolean;
  readonly hasPositionIds: boolean;
}

const PAST_KEY = /^past_key_values\.(\d+)\.key$/;

function fixedDims(v: ValueInfoMessage | undefined): (number | undefined)[] {
  return v?.type?.tensorType?.shape?.dim?.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : undefined)) ?? [];
}

/** The rows of the embedding that `input_ids` indexes (a Gather on an initializer), when there is one. */
function embeddingRows(model: OnnxModel): number | undefined {
  for (const n of model.nodes) {
    if (n.opType !== 'Gather' || n.input?.[1] !== 'input_ids') continue;
    const info = model.tensorInfo(n.input[0] ?? '');
    if (info?.dims.length) return info.dims[0];
  }
  return undefined;
}

/**
 * The cache geometry of `model`: inputs `input_ids` and `past_key_values.i.key|value`
 * [batch, kv_heads, past, head_dim] for every layer i, outputs `logits` and `present.i.key|value`.
 * The vocabulary is the last axis of `logits`, else the rows of the embedding `input_ids` indexes.
 * Anything else is a {@link FormatError} that says what is missing; `name` is the file, for messages.
 */
export function readDecoderGraph(model: OnnxModel, name: string): DecoderGraph {
  const fail = (what: string): FormatError => new FormatError(`${name} is not a decoder with a KV cache: ${what}`, { format: 'onnx' });
  const inputs = new Map((model.graph.input ?? []).map((v) => [v.name ?? '', v]));
  const outputs = new Map((model.graph.output ?? []).map((v) => [v.name ?? '', v]));
  if (!inputs.has('input_ids')) throw fail('it has no input_ids input');
  if (!outputs.has('logits')) throw fail('it has no logits output');
  const layers = [...inputs.keys()].filter((k) => PAST_KEY.test(k)).length;
  if (!layers) throw fail('it has no past_key_values.N.key inputs');
  let geometry: { kvHeads: number; headDim: number; elemType: number } | undefined;
  for (let i = 0; i < layers; i++) {
    for (const [past, present] of [[`past_key_values.${i}.key`, `present.${i}.key`], [`past_key_values.${i}.value`, `present.${i}.value`]]) {
      const v = inputs.get(past);
      if (!v) throw fail(`it has ${layers} past_key_values.N.key inputs but no ${past}`);
      if (!outputs.has(present)) throw fail(`it has the input ${past} but no output ${present}`);
      const dims = fixedDims(v);
      const [kvHeads, headDim] = [dims[1], dims[3]];
      if (dims.length !== 4 || !kvHeads || !headDim) throw fail(`${past} must be [batch, kv_heads, past_sequence, head_dim] with fixed kv_heads and head_dim`);
      const elemType = v.type?.tensorType?.elemType ?? 0;
      if (elemType !== ElementType.FLOAT && elemType !== ElementType.FLOAT16) throw fail(`${past} is not float or float16`);
      if (geometry && (geometry.kvHeads !== kvHeads || geometry.headDim !== headDim || geometry.elemType !== elemType)) throw fail(`${past} differs in shape or type from past_key_values.0.key`);
      geometry ??= { kvHeads, headDim, elemType };
    }
  }
  if (!geometry) throw fail('it has no past_key_values.N.key inputs');
  const logitsDims = fixedDims(outputs.get('logits'));
  const vocabSize = logitsDims[logitsDims.length - 1] ?? embeddingRows(model);
  if (!vocabSize) throw fail('neither the last axis of logits nor an embedding Gather on input_ids gives the vocabulary size');
  return {
    layers, kvHeads: geometry.kvHeads, headDim: geometry.headDim, vocabSize,
    kvElemType: geometry.elemType, kvElementBytes: geometry.elemType === ElementType.FLOAT16 ? 2 : 4,
    hasAttentionMask: inputs.has('attention_mask'), hasPositionIds: inputs.has('position_ids'),
  };
}

/** Matrix products whose constant inputs are weights read in full on every run. */
const WEIGHT_INPUTS: Readonly<Record<string, readonly number[]>> = {
  MatMul: [1], Gemm: [1, 2], FusedMatMul: [1],
  MatMulNBits: [1, 2, 3, 5], MatMulInteger: [1, 3], DynamicQuantizeMatMul: [1, 2, 3, 4], MatMulIntegerToFloat: [1, 3, 5, 6],
};

/**
 * The weight bytes one decode step (batch 1, one new token) reads: every constant input of the
 * matrix products in full (through a DequantizeLinear of constants too), and one row of each
 * Gather from a constant table (the embedding). Activations and the KV cache are not counted.
 */
export function weightBytesPerToken(model: OnnxModel): number {
  const producer = new Map<string, NodeMessage>();
  for (const n of model.nodes) for (const o of n.output ?? []) producer.set(o, n);
  const counted = new Set<string>();
  const bytesOf = (name: string): number => {
    if (!name || counted.has(name)) return 0;
    const info = model.tensorInfo(name);
    if (!info) return 0;
    counted.add(name);
    return rawByteLength(info.dataType, info.dims.reduce((a, b) => a * b, 1));
  };
  let bytes = 0;
  for (const n of model.nodes) {
    const op = n.opType ?? '';
    const inputs = n.input ?? [];
    if (op === 'Gather') {
      const info = model.tensorInfo(inputs[0] ?? '');
      if (!info?.dims.length || model.tensorInfo(inputs[1] ?? '') || intAttribute(n, 'axis', 0) !== 0) continue;
      bytes += rawByteLength(info.dataType, info.dims.slice(1).reduce((a, b) => a * b, 1));
      continue;
    }
    for (const i of WEIGHT_INPUTS[op] ?? []) {
      const name = inputs[i] ?? '';
      const dq = producer.get(name);
      if (dq?.opType === 'DequantizeLinear' && model.tensorInfo(dq.input?.[0] ?? '')) for (const d of dq.input ?? []) bytes += bytesOf(d);
      else bytes += bytesOf(name);
    }
  }
  return bytes;
}

/** The distinct `accuracy_level` attributes of the MatMulNBits nodes (0 when unset), sorted. */
export function nbitsAccuracyLevels(model: OnnxModel): number[] {
  const levels = new Set<number>();
  for (const n of model.nodes) if (n.opType === 'MatMulNBits') levels.add(intAttribute(n, 'accuracy_level', 0));
  return [...levels].sort((a, b) => a - b);
}
