/**
 * SmoothQuant's graph rewrite (Xiao et al. 2022, §4): for every activation X read by MatMul/Gemm
 * layers, Y = X·W becomes Y = (X·diag(s)⁻¹)·(diag(s)·W). The weights absorb s offline; X·diag(s)⁻¹
 * is folded into X's producer when that is exact (the paper folds it into the previous LayerNorm's
 * γ and β), otherwise an explicit Mul(X, 1/s) feeds the smoothed layers. The fp32 model computes
 * the same function up to float rounding; only the difficulty of quantizing X and W changes.
 */
import { intAttribute, type OnnxModel } from '../OnnxModel';
import { ElementType, type GraphMessage, type NodeMessage } from '../onnxMessages';
import { checkSmoothAlpha, DEFAULT_SMOOTH_ALPHA, combinedAbsmax, smoothScaleRange, smoothingScales, weightInputAbsmax } from '../../quant/smoothQuant';
import { NameAllocator } from './NameAllocator';
import type { SkippedRewrite } from './RewriteRecord';
import { canonicalWeight, type WeightTarget } from './weightTargets';

/** What SmoothQuant did to one activation X and the layers reading it. JSON-friendly except `scales`. */
export interface SmoothedActivation {
  /** The activation X as named in the source graph. */
  readonly activation: string;
  /** The smoothed layers (node names), which share one s. */
  readonly layers: readonly string[];
  /** s_j per input channel: the layers' weights were multiplied by s, X divided by it. */
  readonly scales: Float32Array;
  readonly maxScale: number;
  readonly minScale: number;
  /** The node that absorbed diag(s)⁻¹ (for an Add chain, the node at its end), or null when a Mul was inserted. */
  readonly foldedInto: { readonly node: string; readonly opType: string } | null;
  /** Every node whose constants the fold changed, from X's producer upwards; empty with a Mul. */
  readonly foldChain: readonly string[];
  /** Why the scale could not be folded into X's producer (null when it was), for reports. */
  readonly foldBlocked: string | null;
  /** The inserted Mul(X, 1/s) node, or null when the scales were folded. */
  readonly mulNode: string | null;
  /** The value the smoothed layers now read: X itself after a fold, the Mul's output otherwise. */
  readonly smoothedInput: string;
  /** The migration strength α used. */
  readonly alpha: number;
}

/** Options for {@link applySmoothQuant}. */
export interface SmoothQuantOptions {
  /** Migration strength α ∈ [0, 1]; default 0.5 as in the paper. */
  readonly alpha?: number;
  /** Shared with other rewrites of the same model so new names never clash. */
  readonly names?: NameAllocator;
}

/** The outcome of {@link applySmoothQuant}. */
export interface SmoothQuantResult {
  readonly smoothed: SmoothedActivation[];
  readonly skipped: SkippedRewrite[];
}

/** One change of a constant input: node.input[input] gets `values` with `dims`. */
interface ConstantEdit {
  readonly node: NodeMessage;
  readonly input: number;
  readonly dims: readonly number[];
  readonly values: Float32Array;
}

/** A planned fold of diag(s)⁻¹ into the nodes producing X. */
interface FoldPlan {
  readonly edits: readonly ConstantEdit[];
  /** The nodes changed, from X's producer upwards. */
  readonly chain: readonly NodeMessage[];
}

/** Normalizations whose output is x̂·γ + β over the last axis: 1/s goes into γ (and β). */
interface NormInputs {
  readonly gamma: number;
  readonly beta?: number;
  /** False for operators that always normalize the last axis and have no axis attribute. */
  readonly hasAxis: boolean;
}

// The Skip* operators' last optional input is a bias added *before* normalization, so it stays.
const NORMS: Readonly<Record<string, NormInputs>> = {
  LayerNormalization: { gamma: 1, beta: 2, hasAxis: true },
  SimplifiedLayerNormalization: { gamma: 1, hasAxis: true },
  RMSNormalization: { gamma: 1, hasAxis: true },
  SkipLayerNormalization: { gamma: 2, beta: 3, hasAxis: false },
  SkipSimplifiedLayerNormalization: { gamma: 2, hasAxis: false },
};

// ONNX Runtime registers some of these contrib operators in the ONNX domain, others in com.microsoft.
const NORM_DOMAINS = new Set(['', 'ai.onnx', 'com.microsoft']);

/** How far an Add chain is followed before giving up. */
const MAX_FOLD_DEPTH = 16;

function isDefaultDomain(node: NodeMessage): boolean {
  const d = node.domain ?? '';
  return d === '' || d === 'ai.onnx';
}

/** Counts the places reading `name` in a subgraph (If/Loop/Scan bodies see outer values by name). */
function subgraphReads(g: GraphMessage, name: string): number {
  let n = 0;
  for (const node of g.node ?? []) {
    for (const x of node.input ?? []) if (x === name) n++;
    for (const a of node.attribute ?? []) {
      if (a.g) n += subgraphReads(a.g, name);
      for (const sg of a.graphs ?? []) n += subgraphReads(sg, name);
    }
  }
  return n;
}

/**
 * Every place that reads `name`: node input slots of the main graph, graph outputs and subgraph
 * references. A value with more readers than the ones we rewrite must keep its meaning.
 */
function readers(model: OnnxModel, name: string): number {
  let n = 0;
  for (const node of model.nodes) {
    for (const x of node.input ?? []) if (x === name) n++;
    for (const a of node.attribute ?? []) {
      if (a.g) n += subgraphReads(a.g, name);
      for (const sg of a.graphs ?? []) n += subgraphReads(sg, name);
    }
  }
  for (const o of model.graph.output ?? []) if (o.name === name) n++;
  return n;
}

/** The declared rank of a value, when value_info, an input or an output gives its shape. */
function declaredRank(model: OnnxModel, name: string): number | undefined {
  const g = model.graph;
  for (const v of [...(g.valueInfo ?? []), ...(g.input ?? []), ...(g.output ?? [])]) {
    if (v.name !== name) continue;
    const dims = v.type?.tensorType?.shape?.dim;
    if (dims) return dims.length;
  }
  return undefined;
}

/**
 * A float32 constant times 1/s along its last axis, when it broadcasts per channel against an
 * output whose last axis has K = inv.length channels: last dim K (any leading dims, so [K] and
 * [1,…,1,K]), or a single value, which becomes a [K] vector ([…, K] keeping its rank).
 */
function scaleLastAxis(model: OnnxModel, name: string, inv: Float64Array): { dims: number[]; values: Float32Array } | undefined {
  const info = model.tensorInfo(name);
  if (!info || info.dataType !== ElementType.FLOAT) return undefined;
  const K = inv.length;
  const dims = [...info.dims];
  const c = model.getFloatTensor(name);
  if (c.length === 1) {
    const outDims = dims.length ? [...dims.slice(0, -1), K] : [K];
    return { dims: outDims, values: Float32Array.from(inv, (v) => c[0] * v) };
  }
  if (dims.at(-1) !== K) return undefined;
  return { dims, values: Float32Array.from(c, (v, i) => v * inv[i % K]) };
}

/** A constant 2-D weight [N, in] times 1/s on its rows: the output channels of a Gemm with transB. */
function scaleRows(model: OnnxModel, name: string, inv: Float64Array): { dims: number[]; values: Float32Array } | undefined {
  const info = model.tensorInfo(name);
  if (!info || info.dataType !== ElementType.FLOAT || info.dims.length !== 2 || info.dims[0] !== inv.length) return undefined;
  const cols = info.dims[1];
  const w = model.getFloatTensor(name);
  return { dims: [...info.dims], values: Float32Array.from(w, (v, i) => v * inv[Math.floor(i / cols)]) };
}

type Scaled = { dims: number[]; values: Float32Array } | undefined;

function edit(node: NodeMessage, input: number, scaled: Scaled): ConstantEdit | undefined {
  return scaled && { node, input, ...scaled };
}

/** The index of the constant input among a binary node's two inputs (the second wins when both are). */
function constantSide(model: OnnxModel, node: NodeMessage): number | undefined {
  const [a, b] = node.input ?? [];
  if (b && model.tensorInfo(b)) return 1;
  if (a && model.tensorInfo(a)) return 0;
  return undefined;
}

/**
 * Plans X·diag(s)⁻¹ folded into the node producing X, or gives the reason it is not exact.
 * Nothing is changed here: an Add chain whose end cannot absorb the scale must leave the model as
 * it was, so the whole chain is planned before any edit.
 */
function planFold(model: OnnxModel, X: string, inv: Float64Array, depth = 0): FoldPlan | string {
  if (depth > MAX_FOLD_DEPTH) return `the Add chain above ${X} is longer than ${MAX_FOLD_DEPTH}`;
  const producer = model.producerOf(X);
  if (!producer) return `${X} is a graph input`;
  const op = producer.opType ?? '';
  const ins = producer.input ?? [];
  const K = inv.length;
  const norm = NORMS[op];
  if (norm && NORM_DOMAINS.has(producer.domain ?? '')) {
    // Mean and inverse std outputs do not depend on γ; only the normalized output may be X.
    if (producer.output?.[0] !== X) return `${X} is not the normalized output of ${op}`;
    if (norm.hasAxis) {
      const axis = intAttribute(producer, 'axis', -1);
      const rank = declaredRank(model, ins[0] ?? '');
      if (axis !== -1 && (rank === undefined || axis !== rank - 1)) return `${op} normalizes axis ${axis}, not the channel axis`;
    }
    const edits: ConstantEdit[] = [];
    const gamma = edit(producer, norm.gamma, ins[norm.gamma] ? scaleLastAxis(model, ins[norm.gamma], inv) : undefined);
    if (!gamma) return `${op}'s scale is not a float32 constant of ${K} channels`;
    edits.push(gamma);
    const betaName = norm.beta === undefined ? '' : ins[norm.beta] ?? '';
    if (norm.beta !== undefined && betaName) {
      const beta = edit(producer, norm.beta, scaleLastAxis(model, betaName, inv));
      if (!beta) return `${op}'s bias is not a float32 constant of ${K} channels`;
      edits.push(beta);
    }
    return { edits, chain: [producer] };
  }
  if (!isDefaultDomain(producer)) return `${X} comes from ${op} (${producer.domain ?? ''}), which cannot absorb a scale`;
  switch (op) {
    case 'Mul': {
      // (A·c)/s = A·(c/s): exact for any broadcast of c that keeps K channels on the last axis.
      const side = constantSide(model, producer);
      if (side === undefined) return `${X} is a product of two activations`;
      const e = edit(producer, side, scaleLastAxis(model, ins[side], inv));
      return e ? { edits: [e], chain: [producer] } : `the constant of Mul ${producer.name ?? ''} is not per-channel over ${K} channels`;
    }
    case 'Add': {
      // (A + c)/s = A/s + c/s: c takes the scale here and A's producer must take it too.
      const side = constantSide(model, producer);
      if (side === undefined) return `${X} is a sum of two activations`;
      const e = edit(producer, side, scaleLastAxis(model, ins[side], inv));
      if (!e) return `the constant of Add ${producer.name ?? ''} is not per-channel over ${K} channels`;
      const A = ins[1 - side];
      if (readers(model, A) !== 1) return `${A} feeds more than the Add ${producer.name ?? ''}`;
      const rest = planFold(model, A, inv, depth + 1);
      if (typeof rest === 'string') return rest;
      return { edits: [e, ...rest.edits], chain: [producer, ...rest.chain] };
    }
    case 'MatMul': {
      // X = A·Wp with Wp [in, K]: dividing Wp's output columns by s divides X's channels.
      const Wp = ins[1] ?? '';
      if (model.tensorInfo(Wp)?.dims.length !== 2) return `MatMul ${producer.name ?? ''} has no constant 2-D weight`;
      const e = edit(producer, 1, scaleLastAxis(model, Wp, inv));
      return e ? { edits: [e], chain: [producer] } : `MatMul ${producer.name ?? ''} does not produce ${K} float32 channels`;
    }
    case 'Gemm': {
      // X = α·A'·B' + β·C: B' output columns and C both carry the channel, so both take 1/s.
      const B = ins[1] ?? '';
      const transB = intAttribute(producer, 'transB', 0) !== 0;
      if (model.tensorInfo(B)?.dims.length !== 2) return `Gemm ${producer.name ?? ''} has no constant 2-D weight`;
      const eB = edit(producer, 1, transB ? scaleRows(model, B, inv) : scaleLastAxis(model, B, inv));
      if (!eB) return `Gemm ${producer.name ?? ''} does not produce ${K} float32 channels`;
      const C = ins[2] ?? '';
      if (!C) return { edits: [eB], chain: [producer] };
      const eC = edit(producer, 2, scaleLastAxis(model, C, inv));
      return eC ? { edits: [eB, eC], chain: [producer] } : `the bias of Gemm ${producer.name ?? ''} is not a per-channel constant`;
    }
    default:
      return `${X} comes from ${op}, which cannot absorb a scale`;
  }
}

/**
 * Writes planned constant edits. A constant read anywhere else (another node, another slot of the
 * same node, a graph output, a subgraph) gets a fresh initializer for this slot instead, so what
 * else reads it keeps its values.
 */
function applyEdits(model: OnnxModel, edits: readonly ConstantEdit[], names: NameAllocator): void {
  for (const e of edits) {
    const inputs = e.node.input ?? [];
    const name = inputs[e.input];
    if (readers(model, name) === 1) {
      model.setInitializer(name, ElementType.FLOAT, e.dims, e.values);
    } else {
      const fresh = names.fresh(`${name}_smooth`);
      model.setInitializer(fresh, ElementType.FLOAT, e.dims, e.values);
      inputs[e.input] = fresh;
    }
  }
}

/** Removes a constant that the rewrite left without readers (a weight or γ copied for its last reader). */
function dropIfUnread(model: OnnxModel, name: string): void {
  if (readers(model, name) > 0) return;
  const origin = model.tensorOrigin(name);
  if (origin?.kind === 'initializer') model.removeInitializer(name);
  else if (origin?.kind === 'constant') model.removeNode(origin.node);
}

/**
 * Multiplies the input channels of each layer's weight by s: W'[:, j] = W[:, j]·s_j in [out, in]
 * terms, which is row j of a MatMul's [in, out] initializer and column j of a Gemm's transB one.
 * Layers of this group sharing one initializer share the scaled copy; a weight also read by
 * anything outside the group is copied so the other reader keeps the original.
 */
function scaleWeights(model: OnnxModel, members: readonly WeightTarget[], s: Float32Array, names: NameAllocator): void {
  const byWeight = new Map<string, WeightTarget[]>();
  for (const t of members) {
    const key = `${t.transposed ? 'T' : 'N'}:${t.node.input?.[1] ?? ''}`;
    const list = byWeight.get(key) ?? [];
    list.push(t);
    byWeight.set(key, list);
  }
  const K = s.length;
  for (const group of byWeight.values()) {
    const first = group[0];
    const name = first.node.input?.[1] ?? '';
    const info = model.tensorInfo(name);
    if (!info) throw new Error(`weight ${name} of ${first.layer} vanished during SmoothQuant`);
    const stored = model.getFloatTensor(name);
    if (first.transposed) {
      for (let i = 0; i < stored.length; i++) stored[i] *= s[i % K];
    } else {
      const N = stored.length / K;
      for (let i = 0; i < stored.length; i++) stored[i] *= s[Math.floor(i / N)];
    }
    const ours = group.reduce((n, t) => n + (t.node.input ?? []).filter((x) => x === name).length, 0);
    if (readers(model, name) === ours) {
      model.setInitializer(name, ElementType.FLOAT, info.dims, stored);
    } else {
      const fresh = names.fresh(`${name}_smoothed`);
      model.setInitializer(fresh, ElementType.FLOAT, info.dims, stored);
      for (const t of group) {
        const inputs = t.node.input ?? [];
        inputs[1] = fresh;
      }
      dropIfUnread(model, name);
    }
  }
}

/** The layers of one activation that can be smoothed, with their calibration statistics. */
interface Group {
  readonly activation: string;
  readonly members: WeightTarget[];
  readonly absmax: ArrayLike<number>[];
}

/** Checks that a target still describes its node as findWeightTargets saw it. */
function staleReason(model: OnnxModel, t: WeightTarget): string | undefined {
  if (!model.nodes.includes(t.node)) return 'its node is not in this model (targets must come from findWeightTargets on the same model)';
  const [x, w] = t.node.input ?? [];
  if (x !== t.activation) return `its node no longer reads ${t.activation}`;
  const info = w ? model.tensorInfo(w) : undefined;
  const dims = t.transposed ? [t.outFeatures, t.inFeatures] : [t.inFeatures, t.outFeatures];
  if (!info || info.dataType !== ElementType.FLOAT || info.dims.length !== 2 || info.dims[0] !== dims[0] || info.dims[1] !== dims[1]) {
    return `its weight ${w ?? ''} is no longer a float32 ${dims.join('×')} constant`;
  }
  return undefined;
}

/**
 * Applies SmoothQuant to `model` in place (clone it first to keep the source). Targets reading the
 * same activation X share one s (paper: one factor per activation channel, e.g. for q, k and v),
 * computed from the elementwise max of their calibration absmax and of their weights' input
 * absmax. X·diag(s)⁻¹ is folded into X's producer when every reader of X is smoothed and the
 * producer is a LayerNorm/RMSNorm (γ, β), a Mul or an Add by a per-channel constant (an Add passes
 * the scale on to its other operand's producer), or a MatMul/Gemm with a constant weight;
 * otherwise a Mul(X, 1/s) node feeds the smoothed layers and other readers keep X. Afterwards the
 * layers are still MatMul/Gemm nodes with constant weights, so findWeightTargets lists them again.
 */
export function applySmoothQuant(
  model: OnnxModel,
  targets: readonly WeightTarget[],
  activationAbsmax: (layer: string) => ArrayLike<number> | undefined,
  options: SmoothQuantOptions = {},
): SmoothQuantResult {
  const alpha = options.alpha ?? DEFAULT_SMOOTH_ALPHA;
  checkSmoothAlpha(alpha);
  const names = options.names ?? new NameAllocator(model);
  const skipped: SkippedRewrite[] = [];

  const groups = new Map<string, Group>();
  for (const t of targets) {
    const stale = staleReason(model, t);
    if (stale) {
      skipped.push({ layer: t.layer, reason: stale });
      continue;
    }
    const a = activationAbsmax(t.layer);
    if (a === undefined) {
      skipped.push({ layer: t.layer, reason: `no activation absmax from calibration for ${t.layer}` });
      continue;
    }
    if (a.length !== t.inFeatures) {
      skipped.push({ layer: t.layer, reason: `activation absmax has ${a.length} channels, the layer reads ${t.inFeatures}` });
      continue;
    }
    const g = groups.get(t.activation) ?? { activation: t.activation, members: [], absmax: [] };
    if (g.members.length && g.members[0].inFeatures !== t.inFeatures) {
      skipped.push({ layer: t.layer, reason: `reads ${t.activation} with ${t.inFeatures} channels, other layers with ${g.members[0].inFeatures}` });
      continue;
    }
    if (g.members.some((m) => m.node === t.node)) continue;
    g.members.push(t);
    g.absmax.push(a);
    groups.set(t.activation, g);
  }

  // Every s comes from the unmodified model: a fold into a producer MatMul that is itself a
  // smoothed layer changes that layer's weight, and its own s must not depend on the order.
  const plans = [...groups.values()].map((g) => {
    const wmax = combinedAbsmax(g.members.map((t) => weightInputAbsmax({ rows: t.outFeatures, cols: t.inFeatures, data: canonicalWeight(model, t) })));
    return { g, s: smoothingScales(combinedAbsmax(g.absmax), wmax, alpha) };
  });

  const smoothed: SmoothedActivation[] = [];
  for (const { g, s } of plans) {
    const X = g.activation;
    const inv = Float64Array.from(s, (v) => 1 / v);
    // Folding changes X for every reader, so it is exact only when the smoothed layers are all of them.
    const exclusive = readers(model, X) === g.members.length;
    const plan = exclusive ? planFold(model, X, inv) : `${X} has readers besides the smoothed layers`;
    scaleWeights(model, g.members, s, names);
    let foldedInto: SmoothedActivation['foldedInto'] = null;
    let foldChain: string[] = [];
    let mulNode: string | null = null;
    let foldBlocked: string | null = null;
    let smoothedInput = X;
    if (typeof plan !== 'string') {
      const before = new Set(plan.edits.map((e) => (e.node.input ?? [])[e.input]));
      applyEdits(model, plan.edits, names);
      for (const name of before) dropIfUnread(model, name);
      const end = plan.chain[plan.chain.length - 1];
      foldedInto = { node: end.name ?? end.output?.[0] ?? '', opType: end.opType ?? '' };
      foldChain = plan.chain.map((n) => n.name ?? n.output?.[0] ?? '');
    } else {
      foldBlocked = plan;
      const invName = names.fresh(`${X}_smooth_inv_s`);
      model.setInitializer(invName, ElementType.FLOAT, [s.length], Float32Array.from(inv));
      smoothedInput = names.fresh(`${X}_smoothed`);
      mulNode = names.fresh(`${X}_smooth_mul`);
      // Right before the first smoothed layer: X and the initializer exist there, so the order stays topological.
      const at = Math.min(...g.members.map((t) => model.nodes.indexOf(t.node)));
      model.addNode({ name: mulNode, opType: 'Mul', input: [X, invName], output: [smoothedInput] }, at);
      for (const t of g.members) {
        const inputs = t.node.input ?? [];
        inputs[0] = smoothedInput;
      }
    }
    smoothed.push({
      activation: X, layers: g.members.map((t) => t.layer), scales: s, ...smoothScaleRange(s),
      foldedInto, foldChain, foldBlocked, mulNode, smoothedInput, alpha,
    });
  }
  return { smoothed, skipped };
}
