import { basename } from 'node:path';
import type { ModelArchitecture } from '../../protocol/servingTypes';
import type { Checkpoint, GraphValue } from '../formats/Checkpoint';
import { checkArchitecture } from './checkArchitecture';
import { FieldResolver } from './FieldResolver';

/** `past_key_values.3.key`, `past_key.3`, `past.3.key`: a past-key input and its layer. */
const PAST_KEY = /^past(?:_key_values)?[._]?(\d+)[._]key$|^past_key[._](\d+)$/;

function fixed(v: GraphValue, dim: number): number | undefined {
  const d = v.shape?.[dim];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/**
 * Reads a decoder's architecture from an ONNX graph with a KV cache: the layers from its past-key
 * inputs ([batch, KV heads, past tokens, head width]), the vocabulary and hidden size from the
 * token embedding that a Gather reads, the widths from the MatMul weights, and the head counts
 * from a GroupQueryAttention or MultiHeadAttention node when there is one. Every field is marked
 * as inferred, since a graph states none of them.
 */
export function readOnnxArchitecture(checkpoint: Checkpoint): ModelArchitecture {
  const file = basename(checkpoint.path);
  const f = new FieldResolver(file, {}, 'onnx');
  const graph = checkpoint.graph;
  if (!graph) throw f.fail('has no graph');
  const pasts = graph.inputs.filter((v) => PAST_KEY.test(v.name));
  if (pasts.length === 0) throw f.fail('has no past key inputs (past_key_values.N.key); it is not a decoder with a KV cache');
  const past = pasts[0];
  const kvHeads = fixed(past, 1);
  const headDim = fixed(past, 3);
  if (kvHeads === undefined || headDim === undefined) throw f.fail(`${past.name} has shape [${(past.shape ?? []).join(', ')}]; the KV heads (dimension 1) and head width (dimension 3) must be fixed numbers`);
  const byName = new Map(checkpoint.tensors.map((t) => [t.name, t]));
  const gather = graph.nodes.filter((n) => n.opType === 'Gather').map((n) => byName.get(n.inputs[0])).find((t) => t !== undefined && t.shape.length === 2);
  if (!gather) throw f.fail('has no token embedding (a Gather from a 2-D initializer)');
  const [vocabSize, hiddenSize] = gather.shape;
  const attention = graph.nodes.find((n) => n.opType === 'GroupQueryAttention' || n.opType === 'MultiHeadAttention' || n.opType === 'Attention');
  const headsAttr = attention?.attributes['num_heads'];
  const numHeads = typeof headsAttr === 'number' ? headsAttr : typeof headsAttr === 'bigint' ? Number(headsAttr) : hiddenSize / headDim;
  f.note('numHeads', 'inferred', headsAttr !== undefined ? `${attention?.opType ?? ''} num_heads attribute` : 'hidden size / head width');
  // The MLP's width: the widest dimension of a 2-D MatMul weight that is neither the vocabulary nor the hidden size.
  let intermediateSize = 0;
  let gated = 0;
  for (const n of graph.nodes) {
    if (n.opType !== 'MatMul') continue;
    const w = byName.get(n.inputs[1]);
    if (!w || w.shape.length !== 2) continue;
    const [rows, cols] = w.shape;
    const width = rows === hiddenSize && cols !== vocabSize ? cols : cols === hiddenSize && rows !== vocabSize ? rows : 0;
    if (width > intermediateSize && width !== hiddenSize && width !== (numHeads + 2 * kvHeads) * headDim && width !== kvHeads * headDim) {
      intermediateSize = width;
      gated = 0;
    }
    if (width === intermediateSize && rows === hiddenSize) gated++;
  }
  if (intermediateSize === 0) throw f.fail('has no MLP weight wider than the hidden size, so its intermediate size cannot be inferred');
  const layers = pasts.length;
  const cos = checkpoint.tensors.find((t) => /cos_cache$/.test(t.name) && t.shape.length === 2);
  const head = graph.nodes.some((n) => n.opType === 'MatMul' && byName.get(n.inputs[1])?.shape.includes(vocabSize));
  f.note('numLayers', 'inferred', `${layers} past key inputs`);
  f.note('numKvHeads', 'inferred', `${past.name} dimension 1`);
  f.note('headDim', 'inferred', `${past.name} dimension 3`);
  f.note('vocabSize', 'inferred', `${gather.name} rows`);
  f.note('hiddenSize', 'inferred', `${gather.name} columns`);
  f.note('intermediateSize', 'inferred', 'the widest MatMul weight dimension besides the hidden size and vocabulary');
  if (cos) f.note('contextLength', 'inferred', `${cos.name} rows`);
  return checkArchitecture({
    source: 'onnx',
    file,
    modelType: 'onnx',
    numLayers: layers,
    hiddenSize,
    intermediateSize,
    numHeads,
    numKvHeads: kvHeads,
    headDim,
    vocabSize,
    contextLength: cos?.shape[0],
    ropeTheta: undefined,
    ropeScaling: undefined,
    slidingWindow: undefined,
    slidingLayers: 0,
    tieWordEmbeddings: !head,
    gatedMlp: gated >= 2 * layers,
    layerNorm: false,
    qkvBias: false,
    linearBias: false,
    moe: undefined,
    latentAttention: undefined,
    fields: f.fields,
    countedParameters: checkpoint.tensors.reduce((s, t) => s + t.elements, 0),
    notes: ['read from the graph: layer layout (gated MLP, RMSNorm, no biases) inferred from its MatMul weights'],
  }, (m) => f.fail(m));
}
