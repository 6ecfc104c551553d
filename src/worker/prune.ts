/**
 * The prune job: magnitude, N:M (optionally with a channel permutation) or SparseGPT masks on
 * MatMul/Gemm weights, written as dense zeros into a new model file, checked to load in ONNX
 * Runtime, then validated against the original on held-out inputs.
 */
import { isCancelledError } from '../core/linalg/CancelledError';
import { quadraticTraceOfDifference } from '../core/linalg/quadraticTrace';
import { Attr, OnnxModel } from '../core/onnx/OnnxModel';
import { ElementType, type NodeMessage } from '../core/onnx/onnxMessages';
import { canonicalWeight, findWeightTargets, NameAllocator, type SkippedRewrite, type WeightTarget } from '../core/onnx/rewrite';
import { channelPermutation, checkPattern, magnitudePrune, magnitudePruneGlobal, nmMask, permuteColumns, permuteRows, permuteVector, sparsegpt, type WeightMatrix } from '../core/prune';
import { transposeWeight } from '../core/quant/transposeWeight';
import type { NMPattern, PermutationApplication, PruneLayerReport, PruneParams, PruneReport } from '../protocol/pruneTypes';
import type { QuantizeParams } from '../protocol/quantizeTypes';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { finishTransform, inputWarnings, transformOutput } from './finishTransform';
import { runtimeVersion } from './ort';
import { calibrateGroup, calibrationGroups, DEFAULT_HESSIAN_BUDGET, inputBatches, selectTargets } from './layerCalibration';

/** What the report says about speed: ONNX Runtime's CPU kernels are dense, so zeros cost the same time. */
export const PRUNE_LATENCY_NOTE =
  'ONNX Runtime on CPU has no sparse kernels: the pruned weights are stored as dense zeros and run at the same speed (no regression, no gain). ' +
  'The benefit on CPU is the size after compression and the accuracy kept at a given sparsity; an N:M speedup needs sparse tensor cores.';

/** Elementwise ops of one input that act on each channel alone, so a channel permutation passes through them. */
const UNARY_PER_CHANNEL = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Softplus', 'Softsign', 'HardSigmoid', 'HardSwish', 'Gelu', 'Erf', 'Abs', 'Neg', 'Identity', 'Exp', 'Sqrt', 'Reciprocal', 'Mish', 'ThresholdedRelu', 'Celu']);
/** Binary elementwise ops through which a permutation passes when the other operand is a per-channel (or scalar) constant. */
const BINARY_PER_CHANNEL = new Set(['Add', 'Sub', 'Mul', 'Div']);

/** Checks the parameters and returns the N:M pattern (if any) and the unstructured sparsity. */
function checkParams(params: PruneParams): { pattern: NMPattern | undefined; sparsity: number } {
  const { method, pattern } = params;
  if (method !== 'magnitude' && method !== 'nm' && method !== 'sparsegpt') throw new RangeError(`method must be magnitude, nm or sparsegpt; got ${String(method)}`);
  if (method === 'nm' && !pattern) throw new RangeError('the nm method needs an N:M pattern, e.g. 2:4');
  if (method === 'magnitude' && pattern) throw new RangeError('magnitude pruning is unstructured; use the nm method for an N:M pattern');
  if (pattern) {
    checkPattern(pattern.n, pattern.m);
    if (pattern.m < 2) throw new RangeError(`an N:M pattern needs M ≥ 2; got ${pattern.n}:${pattern.m}`);
  }
  if ((params.permute || params.permuteOnly) && !pattern) throw new RangeError('channel permutation applies to N:M patterns only');
  if (params.global && method !== 'magnitude') throw new RangeError('global thresholds apply to unstructured magnitude pruning only');
  const sparsity = params.sparsity ?? 0.5;
  if (!(sparsity >= 0 && sparsity <= 1)) throw new RangeError(`sparsity must be in [0, 1]; got ${String(params.sparsity)}`);
  return { pattern, sparsity };
}

/** The canonical-orientation matrix [out, in] of a target as the model holds it now. */
function currentWeight(model: OnnxModel, target: WeightTarget): WeightMatrix<Float32Array> {
  return { rows: target.outFeatures, cols: target.inFeatures, data: canonicalWeight(model, target) };
}

/** Writes W [out, in] back as the target's stored layout (MatMul's [in, out] is transposed back), float32 like the source. */
function writeWeight(model: OnnxModel, target: WeightTarget, data: Float32Array): void {
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
interface LayerJob {
  readonly params: PruneParams;
  readonly pattern: NMPattern | undefined;
  readonly sparsity: number;
  readonly hessian: { readonly hessian: Float64Array; readonly rows: number } | undefined;
  /** The layer's precomputed mask values (global magnitude), in the source's channel order. */
  readonly preset: Float32Array | undefined;
  readonly all: readonly WeightTarget[];
  readonly names: NameAllocator;
  readonly isCancelled: () => boolean;
}

/** Prunes one layer in `model` (after permuting its inputs when asked) and reports what it cost. */
function pruneLayer(model: OnnxModel, target: WeightTarget, job: LayerJob): PruneLayerReport {
  const { params, pattern } = job;
  let W = currentWeight(model, target);
  let hData = job.hessian?.hessian;
  let permutation: PruneLayerReport['permutation'];
  if ((params.permute || params.permuteOnly) && pattern) {
    const cp = channelPermutation(W, pattern.n, pattern.m, { isCancelled: job.isCancelled });
    const how = applyInputPermutation(model, target, cp.perm, job.all, job.names);
    if (how.applied !== 'none') {
      W = permuteColumns(W, cp.perm);
      if (hData) hData = permuteHessian(hData, cp.perm);
    }
    permutation = { efficacy: cp.efficacy, keptBefore: cp.keptBefore, keptAfter: how.applied === 'none' ? cp.keptBefore : cp.keptAfter, applied: how.applied, ...(how.reason ? { reason: how.reason } : {}) };
  }
  const H = hData === undefined ? undefined : { rows: W.cols, cols: W.cols, data: hData };
  /** The mask shape magnitude pruning would pick: N:M, or unstructured at the target sparsity. */
  const magnitude = (): Float32Array => (pattern ? nmMask(W, pattern.n, pattern.m).weights : magnitudePrune(W, job.sparsity).weights);
  let pruned: Float32Array;
  let magnitudeRelativeError: number | null = null;
  if (params.permuteOnly) pruned = W.data;
  else if (job.preset) pruned = job.preset;
  else if (params.method === 'sparsegpt') {
    if (!H) throw new Error(`${target.layer}: SparseGPT needs the layer's Hessian from calibration`);
    pruned = sparsegpt(W, H, { ...(pattern ? { pattern } : { sparsity: job.sparsity }), isCancelled: job.isCancelled }).weights;
  } else pruned = magnitude();
  let relativeError: number | null = null;
  if (H) {
    const energy = quadraticTraceOfDifference(W, undefined, H);
    if (energy > 0) {
      relativeError = quadraticTraceOfDifference(W, { ...W, data: pruned }, H) / energy;
      if (params.method === 'sparsegpt' && !params.permuteOnly) magnitudeRelativeError = quadraticTraceOfDifference(W, { ...W, data: magnitude() }, H) / energy;
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
    ...(permutation ? { permutation } : {}),
  };
}

/** The default output suffix: `2of4`, `pruned`, or `permuted` for a permutation without pruning. */
function suffixFor(params: PruneParams): string {
  if (params.permuteOnly) return 'permuted';
  return params.pattern ? `${params.pattern.n}of${params.pattern.m}` : 'pruned';
}

/**
 * Prunes the selected MatMul/Gemm weights of `params.path` and writes a new model (never the
 * source, never an existing file unless `overwrite`) with the same tensor shapes and types, the
 * pruned entries set to 0, and `quantscope.prune` in its metadata. SparseGPT calibrates first
 * (H = XᵀX per layer, as GPTQ does); the other methods calibrate only when `calibration` is given,
 * to report layer errors. With `permute`, each layer's input channels are reordered so that the
 * N:M mask keeps more magnitude, and the producer (or an inserted Gather) is reordered to match.
 * The output must load in ONNX Runtime, else it is deleted and the job fails.
 */
export async function pruneModel(params: PruneParams, ctx: JobContext): Promise<PruneReport> {
  const t0 = performance.now();
  const { pattern, sparsity } = checkParams(params);
  const output = transformOutput(params, suffixFor(params));
  const source = await OnnxModel.load(params.path);
  const model = source.clone();
  const { targets, skipped } = selectTargets(model, params.layers);
  if (!targets.length) throw new RangeError('no MatMul or Gemm with a constant 2-D float weight to prune');
  const all = findWeightTargets(model).targets;

  // The input batches come from quantization's helper, which reads only the calibration and
  // validation fields of its parameters.
  const batchParams: QuantizeParams = { path: params.path, method: 'rtn', bits: 8, format: 'qdq', ...(params.calibration ? { calibration: params.calibration } : {}), ...(params.validationBatches ? { validationBatches: params.validationBatches } : {}) };
  const needH = params.method === 'sparsegpt' || params.calibration !== undefined;
  const inputs = await inputBatches(source, batchParams, needH);
  const groups = calibrationGroups(source, targets, needH && inputs.calib !== undefined, DEFAULT_HESSIAN_BUDGET);

  // A global threshold needs every chosen weight at once, before any is written.
  const presets = new Map<string, Float32Array>();
  if (params.global && !params.permuteOnly) {
    const ws = targets.map((t) => currentWeight(model, t));
    magnitudePruneGlobal(ws, sparsity).forEach((p, i) => presets.set(targets[i].layer, p.weights));
  }

  let calibrationBatches = 0;
  let calibrationSeconds = 0;
  const tp = performance.now();
  const names = new NameAllocator(model);
  const layers: PruneLayerReport[] = [];
  const skippedAll: SkippedRewrite[] = [...skipped];
  const byLayer = new Map(targets.map((t) => [t.layer, t]));
  const prunedWeights = new Map<string, string>();
  let done = 0;
  for (const group of groups) {
    const { hessians, batches, seconds } = await calibrateGroup(source, group, inputs.calib, { done, total: targets.length }, ctx);
    if (batches !== undefined) calibrationBatches = batches;
    calibrationSeconds += seconds;
    for (const name of group.layers) {
      throwIfCancelled(ctx);
      const target = byLayer.get(name);
      if (!target) continue;
      ctx.progress(`pruning ${target.layer}`, (0.7 * done++) / targets.length);
      const first = prunedWeights.get(target.weight);
      if (first !== undefined) {
        skippedAll.push({ layer: target.layer, reason: `its weight ${target.weight} is shared with ${first}, pruned already` });
        continue;
      }
      // A weight another kind of node also reads (a tied embedding) would change that node too.
      const reader = model.consumersOf(target.weight).find((n) => !all.some((t) => t.node === n));
      if (reader) {
        skippedAll.push({ layer: target.layer, reason: `its weight ${target.weight} is also read by ${reader.opType ?? '?'} ${reader.name ?? ''}` });
        continue;
      }
      const h = hessians.get(target.layer);
      if (params.method === 'sparsegpt' && !h) {
        skippedAll.push({ layer: target.layer, reason: 'calibration gave no Hessian for this layer' });
        continue;
      }
      try {
        layers.push(pruneLayer(model, target, { params, pattern, sparsity, hessian: h, preset: presets.get(target.layer), all, names, isCancelled: ctx.isCancelled }));
        prunedWeights.set(target.weight, target.layer);
      } catch (e) {
        if (isCancelledError(e)) throw new CancelledError();
        if (!(e instanceof RangeError)) throw e;
        skippedAll.push({ layer: target.layer, reason: e.message });
      }
    }
  }
  if (!layers.length) throw new RangeError(`no layer could be pruned: ${skippedAll.map((s) => `${s.layer}: ${s.reason}`).slice(0, 3).join('; ')}`);

  const weights = layers.reduce((s, l) => s + l.inFeatures * l.outFeatures, 0);
  const zeros = layers.reduce((s, l) => s + Math.round(l.sparsity * l.inFeatures * l.outFeatures), 0);
  const gathers = layers.filter((l) => l.permutation?.applied === 'gather').length;
  const permuted = layers.some((l) => l.permutation !== undefined && l.permutation.applied !== 'none');
  model.setMetadata('quantscope.prune', JSON.stringify({
    method: params.method,
    pattern: pattern ? `${pattern.n}:${pattern.m}` : null,
    targetSparsity: pattern ? null : sparsity,
    sparsity: weights ? zeros / weights : 0,
    global: params.global ?? false,
    permuted,
    permuteOnly: params.permuteOnly ?? false,
    layers: layers.map((l) => l.layer),
  }));
  const pruningSeconds = (performance.now() - tp) / 1000 - calibrationSeconds;

  const finished = await finishTransform(model, { source: params.path, output, overwrite: params.overwrite, heldOut: inputs.heldOut, heldOutSynthetic: inputs.heldOutSynthetic, edited: 'pruned' }, ctx);

  const { outputBytes } = finished;
  // Stored as a bitmask of the kept positions plus the nonzero float32 values.
  const compressedEstimateBytes = outputBytes - 4 * weights + layers.reduce((s, l) => {
    const n = l.inFeatures * l.outFeatures;
    return s + Math.ceil(n / 8) + 4 * (n - Math.round(l.sparsity * n));
  }, 0);
  const warnings = inputWarnings(calibrationBatches, inputs);
  const unapplied = layers.filter((l) => l.permutation?.applied === 'none');
  if (unapplied.length) warnings.push(`${unapplied.length} layer(s) kept their channel order: ${unapplied[0].layer}: ${unapplied[0].permutation?.reason ?? ''}`);
  ctx.progress('done', 1);
  return {
    source: params.path,
    output,
    method: params.method,
    pattern: pattern ? `${pattern.n}:${pattern.m}` : null,
    targetSparsity: pattern ? null : sparsity,
    global: params.global ?? false,
    permuted,
    layers,
    skipped: skippedAll,
    validation: finished.validation,
    sizes: { sourceBytes: finished.sourceBytes, outputBytes, zeros, weights, compressedEstimateBytes },
    latencyNote: gathers ? `${PRUNE_LATENCY_NOTE} The ${gathers} Gather node(s) inserted for the channel permutation copy their activation on every run: a small cost, measure it before relying on "no regression".` : PRUNE_LATENCY_NOTE,
    calibrationBatches,
    seconds: { calibration: calibrationSeconds, pruning: pruningSeconds, write: finished.writeSeconds, validation: finished.validationSeconds, total: (performance.now() - t0) / 1000 },
    synthetic: calibrationBatches > 0 && inputs.calibSynthetic,
    runtimeVersion: runtimeVersion(),
    warnings,
  };
}
