/**
 * Calibration taps: a copy of a model with extra outputs that let ONNX Runtime itself compute,
 * for the activation X feeding each weight (MatMul or Gemm whose B is an initializer or a
 * Constant), the per-channel absmax, the Gram matrix XᵀX and the row count. Only these small
 * results cross into JavaScript; the activations never do.
 */
import { FormatError } from '../FormatError';
import { Attr, intAttribute, OnnxModel } from '../onnx/OnnxModel';
import { cloneMessage } from '../onnx/cloneMessage';
import { editType } from '../onnx/onnxEditSchema';
import { ElementType, type ModelMessage, type NodeMessage, type ValueInfoMessage } from '../onnx/onnxMessages';
import { NameAllocator } from '../onnx/rewrite/NameAllocator';

/** The names of the outputs a tap adds. */
export interface TapOutputs {
  /** `[d]` float: max |X| per input channel. */
  readonly absmax: string;
  /** `[d, d]` float: XᵀX over the batch's rows (absent when the Gram matrix was not asked for). */
  readonly gram: string | undefined;
  /** Scalar int64: the number of rows of X (all axes but the last, multiplied). */
  readonly rows: string;
}

/** One tapped layer. */
export interface CalibrationTap {
  /** The node's name, or its first output when it has none. */
  readonly layer: string;
  readonly opType: 'MatMul' | 'Gemm';
  /** The initializer or Constant output holding the weight. */
  readonly weight: string;
  /** The weight's shape as stored. */
  readonly weightShape: readonly number[];
  /** The input (reduction) dimension of the weight: the width of X's rows. */
  readonly d: number;
  /** True when the weight is stored [out, in] (Gemm with transB); otherwise it is [in, out] (or [in]). */
  readonly weightTransposed: boolean;
  /** The activation input X. */
  readonly activation: string;
  /** Layers reading the same X share one set of outputs. */
  readonly outputs: TapOutputs;
}

/** A layer that could not be tapped, with the reason. */
export interface SkippedLayer {
  readonly layer: string;
  readonly reason: string;
}

/** The tapped copy and what was tapped. */
export interface TappedModel {
  /** The tapped copy of the model, built on first access. */
  readonly model: OnnxModel;
  readonly taps: readonly CalibrationTap[];
  readonly skipped: readonly SkippedLayer[];
  /** The added nodes, in order (they go after the model's own nodes). */
  readonly nodes: readonly NodeMessage[];
  /** The added graph outputs. */
  readonly outputs: readonly ValueInfoMessage[];
  /**
   * The additions as an encoded ModelProto fragment. Protobuf parsers merge a repeated embedded
   * message field by appending, so the source model's unchanged bytes followed by this fragment
   * are the tapped model: no need to re-encode a large model just to add a few nodes.
   */
  readonly appendix: Uint8Array;
}

/** Options for {@link buildCalibrationTaps}. */
export interface TapOptions {
  /** Tap only the layers this accepts (by layer name); default: all. */
  readonly include?: (layer: string) => boolean;
  /** Add the Gram matrix outputs (default true); without them only absmax and rows are computed. */
  readonly gram?: boolean;
}

/** Element types a weight may have; X has the same (MatMul and Gemm require it). */
const FLOAT_TYPES: ReadonlySet<number> = new Set([ElementType.FLOAT, ElementType.FLOAT16, ElementType.BFLOAT16, ElementType.DOUBLE]);

/** What the graph tells us about a candidate layer. */
type Candidate = { readonly ok: true; readonly tap: Omit<CalibrationTap, 'outputs'>; readonly transposeX: boolean } | { readonly ok: false; readonly reason: string };

function inspect(model: OnnxModel, node: NodeMessage): Candidate {
  const [a, b] = node.input ?? [];
  const layer = node.name || node.output?.[0] || '';
  if (!a || !b) return { ok: false, reason: 'missing inputs' };
  const wInfo = model.tensorInfo(b);
  if (!wInfo) {
    return { ok: false, reason: model.tensorInfo(a) ? 'the weight is the left operand (W·X); only X·W is tapped' : 'both inputs are activations' };
  }
  if (!FLOAT_TYPES.has(wInfo.dataType)) return { ok: false, reason: `weight element type ${wInfo.dataType} is not a float type` };
  const dims = wInfo.dims;
  const opType = node.opType === 'Gemm' ? 'Gemm' : 'MatMul';
  let d: number;
  let transposeX = false;
  let weightTransposed = false;
  if (opType === 'Gemm') {
    if (dims.length !== 2) return { ok: false, reason: `Gemm weight has rank ${dims.length}` };
    weightTransposed = intAttribute(node, 'transB', 0) !== 0;
    d = weightTransposed ? dims[1] : dims[0];
    transposeX = intAttribute(node, 'transA', 0) !== 0;
  } else {
    if (dims.length === 2) d = dims[0];
    else if (dims.length === 1) d = dims[0];
    else return { ok: false, reason: `batched weight of rank ${dims.length}` };
  }
  if (!(d > 0)) return { ok: false, reason: 'the weight has an empty input dimension' };
  return { ok: true, transposeX, tap: { layer, opType, weight: b, weightShape: dims, d, weightTransposed, activation: a } };
}

/**
 * Builds a tapped copy of `model` (the model itself is not changed). For each MatMul/Gemm of the
 * main graph with a constant weight B and activation X:
 *
 * - `X2 = Reshape(X, [-1, d])` (for Gemm with `transA`, `X2 = Transpose(A)`), cast to float when
 *   the model computes in another float type;
 * - `absmax = ReduceMax(Abs(X2), axes=[0], keepdims=0)`, with `axes` an attribute before opset 18
 *   and an input from 18 on;
 * - `gram = MatMul(Transpose(X2), X2)`;
 * - `rows = Gather(Shape(X2), 0)`.
 *
 * The tap nodes go after the existing ones, so the node list stays topologically sorted. Taps
 * inside subgraphs (If/Loop bodies) are not added; those layers are not listed.
 */
export function buildCalibrationTaps(model: OnnxModel, options: TapOptions = {}): TappedModel {
  const opset = model.opsetVersion() ?? 1;
  if (opset < 6) throw new FormatError(`calibration taps need opset 6 or later; this model imports opset ${opset}`, { format: 'onnx' });
  const withGram = options.gram ?? true;
  const names = new NameAllocator(model);
  const outputs: ValueInfoMessage[] = [];
  const output = (name: string, elemType: number, shape: readonly number[]): void => {
    outputs.push({ name, type: { tensorType: { elemType, shape: { dim: shape.map((d) => ({ dimValue: String(d) })) } } } });
  };
  const taps: CalibrationTap[] = [];
  const skipped: SkippedLayer[] = [];
  const added: NodeMessage[] = [];
  const byActivation = new Map<string, TapOutputs>();
  const constants = new Map<string, string>();

  const int64Constant = (key: string, dims: readonly number[], values: readonly number[]): string => {
    const known = constants.get(key);
    if (known) return known;
    const out = names.fresh(`quantscope_tap/const_${key}`);
    added.push({
      name: names.fresh(`${out}/Constant`), opType: 'Constant', output: [out],
      attribute: [Attr.tensor('value', { dataType: ElementType.INT64, dims: dims.map(String), int64Data: values.map(String) })],
    });
    constants.set(key, out);
    return out;
  };
  const node = (opType: string, base: string, inputs: string[], attrs: NodeMessage['attribute'] = [], output?: string): string => {
    const out = output ?? names.fresh(`${base}/${opType}_output`);
    const n: NodeMessage = { name: names.fresh(`${base}/${opType}`), opType, input: inputs, output: [out] };
    if (attrs.length) n.attribute = attrs;
    added.push(n);
    return out;
  };

  for (const n of model.nodes) {
    if ((n.domain ?? '') !== '' || (n.opType !== 'MatMul' && n.opType !== 'Gemm')) continue;
    const c = inspect(model, n);
    const layer = n.name || n.output?.[0] || '';
    if (!c.ok) {
      skipped.push({ layer, reason: c.reason });
      continue;
    }
    if (options.include && !options.include(layer)) continue;
    const { tap, transposeX } = c;
    const key = `${tap.activation}\u0000${tap.d}\u0000${transposeX ? 'T' : ''}`;
    let tapOutputs = byActivation.get(key);
    if (!tapOutputs) {
      const base = `quantscope_tap/${layer}`;
      let x2 = transposeX
        ? node('Transpose', base, [tap.activation], [Attr.ints('perm', [1, 0])])
        : node('Reshape', base, [tap.activation, int64Constant(`shape_${tap.d}`, [2], [-1, tap.d])]);
      const wType = model.tensorInfo(tap.weight)?.dataType;
      if (wType !== ElementType.FLOAT) x2 = node('Cast', base, [x2], [Attr.int('to', ElementType.FLOAT)]);
      const abs = node('Abs', base, [x2]);
      const absmax = names.fresh(`${layer}/absmax`);
      if (opset >= 18) node('ReduceMax', base, [abs, int64Constant('axes0', [1], [0])], [Attr.int('keepdims', 0)], absmax);
      else node('ReduceMax', base, [abs], [Attr.ints('axes', [0]), Attr.int('keepdims', 0)], absmax);
      let gram: string | undefined;
      if (withGram) {
        const xt = node('Transpose', base, [x2], [Attr.ints('perm', [1, 0])]);
        gram = names.fresh(`${layer}/gram`);
        node('MatMul', base, [xt, x2], [], gram);
      }
      const shape = node('Shape', base, [x2]);
      const rows = names.fresh(`${layer}/rows`);
      node('Gather', base, [shape, int64Constant('index0', [], [0])], [Attr.int('axis', 0)], rows);
      tapOutputs = { absmax, gram, rows };
      byActivation.set(key, tapOutputs);
      output(absmax, ElementType.FLOAT, [tap.d]);
      if (gram) output(gram, ElementType.FLOAT, [tap.d, tap.d]);
      output(rows, ElementType.INT64, []);
    }
    taps.push({ ...tap, outputs: tapOutputs });
  }
  let tapped: OnnxModel | undefined;
  let appendix: Uint8Array | undefined;
  return {
    taps, skipped, nodes: added, outputs,
    get model(): OnnxModel {
      if (!tapped) {
        tapped = model.clone();
        for (const n of cloneMessage(added)) tapped.addNode(n);
        (tapped.graph.output ??= []).push(...cloneMessage(outputs));
      }
      return tapped;
    },
    get appendix(): Uint8Array {
      if (!appendix) {
        const fragment: ModelMessage = { graph: { node: added, output: outputs } };
        const T = editType('ModelProto');
        appendix = T.encode(T.fromObject(fragment)).finish();
      }
      return appendix;
    },
  };
}

/**
 * Splits tapped layers into groups whose d×d Float64 Hessians fit `budgetBytes` each (layers that
 * share an activation stay together, since they share one Hessian), for calibrating a model too
 * wide for memory in several passes. Throws when a single activation alone exceeds the budget.
 */
export function groupTapsByMemory(taps: readonly CalibrationTap[], budgetBytes: number): string[][] {
  const byOutputs = new Map<TapOutputs, CalibrationTap[]>();
  for (const t of taps) byOutputs.set(t.outputs, [...(byOutputs.get(t.outputs) ?? []), t]);
  const groups: string[][] = [];
  let current: string[] = [];
  let used = 0;
  for (const members of byOutputs.values()) {
    const bytes = members[0].d * members[0].d * 8;
    if (bytes > budgetBytes) throw new RangeError(`the Hessian of ${members[0].layer} (d = ${members[0].d}) alone takes ${bytes} bytes, more than the ${budgetBytes}-byte budget`);
    if (used + bytes > budgetBytes && current.length) {
      groups.push(current);
      current = [];
      used = 0;
    }
    current.push(...members.map((m) => m.layer));
    used += bytes;
  }
  if (current.length) groups.push(current);
  return groups;
}
