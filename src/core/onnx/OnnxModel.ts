import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { FormatError } from '../FormatError';
import { resolveExternalPath } from '../formats/onnx/resolveExternalPath';
import { AtomicFileWriter, type AtomicWriteOptions } from '../io/atomicWrite';
import { cloneMessage } from './cloneMessage';
import { encodeModel, type EncodedModel, type ExternalDataLayout } from './encodeModel';
import { editType } from './onnxEditSchema';
import {
  AttributeType, ElementType,
  type AttributeMessage, type GraphMessage, type ModelMessage, type NodeMessage, type TensorMessage, type ValueInfoMessage,
} from './onnxMessages';
import { bytesToFloat32, inlineTensorBytes, isExternal, rawByteLength, tensorBytesOf, tensorDims, tensorElements, type TensorValues } from './tensorData';
import { concatPieces, materialize, type Piece } from './wirePieces';

/** A protobuf message (and so a model without external data) must stay below 2 GiB. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** Options for {@link OnnxModel.save}. */
export interface SaveOptions extends AtomicWriteOptions {
  /**
   * `auto` (default) writes large initializers to `<name>.data` only when the model would not
   * fit in one protobuf message; `always` does so regardless; `never` refuses models that do not fit.
   */
  readonly externalData?: 'auto' | 'always' | 'never';
  /** Initializers of at least this many bytes go to the data file. Default 1024, as ONNX's own tools do. */
  readonly externalThreshold?: number;
}

/** What {@link OnnxModel.save} wrote. */
export interface SaveResult {
  readonly path: string;
  readonly bytes: number;
  /** The data file, when the model was written with external data. */
  readonly dataPath?: string;
  readonly dataBytes?: number;
}

/** Where a tensor name is defined: an initializer of the main graph or the output of a Constant node. */
export type TensorOrigin = { readonly kind: 'initializer'; readonly tensor: TensorMessage } | { readonly kind: 'constant'; readonly node: NodeMessage; readonly tensor: TensorMessage };

function attr(node: NodeMessage, name: string): AttributeMessage | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** The tensor a Constant node produces, for the attribute forms that carry numbers. */
function constantTensor(node: NodeMessage): TensorMessage | undefined {
  const name = node.output?.[0] ?? '';
  for (const a of node.attribute ?? []) {
    switch (a.name) {
      case 'value': return a.t ? { ...a.t, name } : undefined;
      case 'value_float': return { name, dataType: ElementType.FLOAT, floatData: [a.f ?? 0] };
      case 'value_floats': return { name, dataType: ElementType.FLOAT, dims: [String(a.floats?.length ?? 0)], floatData: a.floats ?? [] };
      case 'value_int': return { name, dataType: ElementType.INT64, int64Data: [a.i ?? '0'] };
      case 'value_ints': return { name, dataType: ElementType.INT64, dims: [String(a.ints?.length ?? 0)], int64Data: a.ints ?? [] };
      default: break;
    }
  }
  return undefined;
}

/**
 * An ONNX model decoded for editing. The whole ModelProto is held as plain objects (tensor bytes
 * stay views of the file buffer), so this suits models whose `.onnx` file is below 2 GB; tensors
 * stored in external files are read from them when asked for. Edits change this object only:
 * {@link save} writes a new file and never touches the one it came from.
 */
export class OnnxModel {
  private constructor(
    /** The decoded ModelProto; edit through the methods when one exists. */
    readonly proto: ModelMessage,
    /** The file it came from: external data locations are relative to its folder. */
    readonly path: string | undefined,
  ) {
    proto.graph ??= {};
  }

  /** Reads and decodes a model file. Throws {@link FormatError} when it is not a readable ModelProto. */
  static async load(path: string): Promise<OnnxModel> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new FormatError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { format: 'onnx', cause: e });
    }
    return OnnxModel.fromBytes(bytes, path);
  }

  /** Decodes a model from memory; `path` (when given) anchors external data locations. */
  static fromBytes(bytes: Uint8Array, path?: string): OnnxModel {
    const shown = path === undefined ? 'the model' : basename(path);
    if (bytes.length > PROTOBUF_LIMIT) throw new FormatError(`${shown} is larger than 2 GB, which one protobuf message cannot be`, { format: 'onnx' });
    const t = editType('ModelProto');
    let proto: ModelMessage;
    try {
      proto = t.toObject(t.decode(bytes), { longs: String, enums: Number, defaults: false, arrays: false });
    } catch (e) {
      throw new FormatError(`${shown} is not a readable ONNX model: ${e instanceof Error ? e.message : String(e)}`, { format: 'onnx', cause: e });
    }
    if (!proto.graph) throw new FormatError(`${shown} is not an ONNX model: it has no graph`, { format: 'onnx' });
    return new OnnxModel(proto, path);
  }

  /** A deep copy that shares tensor bytes; editing the copy leaves this model as it is. */
  clone(): OnnxModel {
    return new OnnxModel(cloneMessage(this.proto), this.path);
  }

  /** The main graph. */
  get graph(): GraphMessage {
    return this.proto.graph ?? {};
  }

  /** The nodes of the main graph, in their stored (topological) order. */
  get nodes(): readonly NodeMessage[] {
    return this.graph.node ?? [];
  }

  /** The IR version (0 when absent). */
  get irVersion(): number {
    return Number(this.proto.irVersion ?? 0);
  }

  // ---- opsets and metadata ------------------------------------------------------------------

  /** The imported version of an operator set (`''` is the default ONNX domain), or undefined. */
  opsetVersion(domain = ''): number | undefined {
    const d = domain === 'ai.onnx' ? '' : domain;
    const o = this.proto.opsetImport?.find((x) => (x.domain ?? '') === d || (d === '' && x.domain === 'ai.onnx'));
    return o ? Number(o.version ?? 0) : undefined;
  }

  /**
   * Imports `domain` at `version` when it is not imported yet (for example `com.microsoft` 1 for
   * contrib operators). An existing import is left as it is: raising the default opset would change
   * the meaning of nodes already in the graph.
   */
  ensureOpset(domain: string, version: number): void {
    if (this.opsetVersion(domain) !== undefined) return;
    (this.proto.opsetImport ??= []).push({ domain, version: String(version) });
  }

  /** A `metadata_props` value. */
  getMetadata(key: string): string | undefined {
    return this.proto.metadataProps?.find((p) => p.key === key)?.value;
  }

  /** Sets (or with undefined, removes) a `metadata_props` entry. */
  setMetadata(key: string, value: string | undefined): void {
    const props = (this.proto.metadataProps ??= []);
    const i = props.findIndex((p) => p.key === key);
    if (value === undefined) {
      if (i >= 0) props.splice(i, 1);
    } else if (i >= 0) props[i] = { key, value };
    else props.push({ key, value });
  }

  // ---- tensors -------------------------------------------------------------------------------

  /** The initializer of the main graph called `name`. */
  findInitializer(name: string): TensorMessage | undefined {
    return this.graph.initializer?.find((t) => t.name === name);
  }

  /** The Constant node of the main graph whose output is `name`. */
  findConstantNode(name: string): NodeMessage | undefined {
    return this.nodes.find((n) => n.opType === 'Constant' && (n.domain ?? '') === '' && n.output?.[0] === name);
  }

  /** Where the constant tensor `name` comes from, or undefined when it is computed (an activation). */
  tensorOrigin(name: string): TensorOrigin | undefined {
    const init = this.findInitializer(name);
    if (init) return { kind: 'initializer', tensor: init };
    const node = this.findConstantNode(name);
    const tensor = node ? constantTensor(node) : undefined;
    return node && tensor ? { kind: 'constant', node, tensor } : undefined;
  }

  /** Element type and dims of the constant tensor `name`, or undefined when it is not a constant. */
  tensorInfo(name: string): { readonly dataType: number; readonly dims: readonly number[] } | undefined {
    const o = this.tensorOrigin(name);
    return o ? { dataType: o.tensor.dataType ?? 0, dims: tensorDims(o.tensor) } : undefined;
  }

  /** The raw little-endian bytes of the constant tensor `name` (read from its external file when needed). */
  getTensorBytes(name: string): Uint8Array {
    const o = this.tensorOrigin(name);
    if (!o) throw new FormatError(`no initializer or Constant named ${name}`, { format: 'onnx' });
    return this.tensorBytes(o.tensor);
  }

  /**
   * The values of the constant tensor `name` as float32 (f16, bf16, f64 and integers are
   * converted), written into `into` when given (it must hold exactly the tensor's element count).
   */
  getFloatTensor(name: string, into?: Float32Array): Float32Array {
    const o = this.tensorOrigin(name);
    if (!o) throw new FormatError(`no initializer or Constant named ${name}`, { format: 'onnx' });
    return bytesToFloat32(o.tensor.dataType ?? 0, this.tensorBytes(o.tensor), tensorElements(o.tensor), name, into);
  }

  /** The raw bytes of any tensor message, inline or external. */
  tensorBytes(t: TensorMessage): Uint8Array {
    return isExternal(t) ? this.readExternal(t) : inlineTensorBytes(t);
  }

  /**
   * Sets the initializer `name` to the given values (raw little-endian bytes or a typed array whose
   * bytes are taken as they are). A Constant node that produced `name` is removed, so consumers see
   * the new values under the same name.
   */
  setInitializer(name: string, dataType: number, dims: readonly number[], data: TensorValues): TensorMessage {
    const bytes = tensorBytesOf(data);
    const elements = dims.reduce((a, b) => a * b, 1);
    const want = rawByteLength(dataType, elements);
    if (bytes.length !== want) throw new RangeError(`initializer ${name}: ${bytes.length} bytes given, ${want} expected for ${dims.join('×')}`);
    const tensor: TensorMessage = { name, dataType, dims: dims.map(String), rawData: bytes };
    const inits = (this.graph.initializer ??= []);
    const i = inits.findIndex((t) => t.name === name);
    if (i >= 0) {
      const doc = inits[i].docString;
      inits[i] = doc === undefined ? tensor : { ...tensor, docString: doc };
    } else inits.push(tensor);
    const constant = this.findConstantNode(name);
    if (constant) this.removeNode(constant);
    if (this.irVersion < 4) this.declareInitializerInput(name, dataType, dims);
    return tensor;
  }

  /** Removes the initializer `name` (and its graph input in IR < 4 models). */
  removeInitializer(name: string): void {
    const g = this.graph;
    g.initializer = (g.initializer ?? []).filter((t) => t.name !== name);
    if (this.irVersion < 4) g.input = (g.input ?? []).filter((v) => v.name !== name);
  }

  /** Before IR 4 every initializer also had to be a graph input. */
  private declareInitializerInput(name: string, dataType: number, dims: readonly number[]): void {
    const inputs = (this.graph.input ??= []);
    const vi: ValueInfoMessage = { name, type: { tensorType: { elemType: dataType, shape: { dim: dims.map((d) => ({ dimValue: String(d) })) } } } };
    const i = inputs.findIndex((v) => v.name === name);
    if (i >= 0) inputs[i] = vi;
    else inputs.push(vi);
  }

  private readExternal(t: TensorMessage): Uint8Array {
    const name = t.name ?? '';
    if (this.path === undefined) throw new FormatError(`tensor ${name} has external data but the model has no file to resolve it against`, { format: 'onnx' });
    const entry = (k: string): string | undefined => t.externalData?.find((e) => e.key === k)?.value;
    const location = entry('location');
    if (location === undefined) throw new FormatError(`external tensor ${name} has no location`, { format: 'onnx' });
    const file = resolveExternalPath(this.path, location);
    const offset = Number(entry('offset') ?? 0);
    const want = rawByteLength(t.dataType ?? 0, tensorElements(t));
    const length = Number(entry('length') ?? want);
    if (!Number.isSafeInteger(offset) || offset < 0 || length !== want) {
      throw new FormatError(`external tensor ${name} has offset ${offset} and length ${length}, expected ${want} bytes`, { format: 'onnx' });
    }
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (offset + length > size) throw new FormatError(`external tensor ${name} ends at byte ${offset + length} but ${location} has ${size}`, { format: 'onnx' });
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, got, length - got, offset + got);
        if (n === 0) throw new FormatError(`${location} ended early while reading tensor ${name}`, { format: 'onnx' });
        got += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }

  // ---- nodes and values ----------------------------------------------------------------------

  /** The node of the main graph producing `value`. */
  producerOf(value: string): NodeMessage | undefined {
    return this.nodes.find((n) => n.output?.includes(value));
  }

  /** The nodes of the main graph reading `value`. */
  consumersOf(value: string): NodeMessage[] {
    return this.nodes.filter((n) => n.input?.includes(value));
  }

  /** Inserts `node` at `index` (default: the end, which keeps a topological order when its inputs exist already). */
  addNode(node: NodeMessage, index?: number): NodeMessage {
    const nodes = (this.graph.node ??= []);
    nodes.splice(index ?? nodes.length, 0, node);
    return node;
  }

  /** Removes a node (by object or by name). Returns whether it was there. */
  removeNode(node: NodeMessage | string): boolean {
    const nodes = this.graph.node ?? [];
    const i = typeof node === 'string' ? nodes.findIndex((n) => n.name === node) : nodes.indexOf(node);
    if (i < 0) return false;
    nodes.splice(i, 1);
    return true;
  }

  /** Replaces a node with a sequence of nodes at the same position. */
  replaceNode(node: NodeMessage | string, replacement: readonly NodeMessage[]): void {
    const nodes = this.graph.node ?? [];
    const i = typeof node === 'string' ? nodes.findIndex((n) => n.name === node) : nodes.indexOf(node);
    if (i < 0) throw new Error(`node ${typeof node === 'string' ? node : node.name ?? ''} is not in the graph`);
    nodes.splice(i, 1, ...replacement);
  }

  /** Every name in use in the main graph: values, nodes, initializers, inputs and outputs. */
  usedNames(): Set<string> {
    const g = this.graph;
    const names = new Set<string>();
    for (const n of g.node ?? []) {
      if (n.name) names.add(n.name);
      for (const x of n.input ?? []) names.add(x);
      for (const x of n.output ?? []) names.add(x);
    }
    for (const t of g.initializer ?? []) if (t.name) names.add(t.name);
    for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) if (v.name) names.add(v.name);
    return names;
  }

  /** Declares `name` a graph output with its element type and (optional, possibly symbolic) shape. */
  addOutput(name: string, elemType: number, shape?: readonly (number | string)[]): void {
    const outputs = (this.graph.output ??= []);
    if (outputs.some((o) => o.name === name)) return;
    const tensorType: NonNullable<ValueInfoMessage['type']>['tensorType'] = { elemType };
    if (shape) tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: String(d) } : { dimParam: d })) };
    outputs.push({ name, type: { tensorType } });
  }

  // ---- writing -------------------------------------------------------------------------------

  private payload(t: TensorMessage): Piece {
    if (!isExternal(t)) return inlineTensorBytes(t);
    const size = rawByteLength(t.dataType ?? 0, tensorElements(t));
    return { size, read: () => this.readExternal(t) };
  }

  /** True when any tensor (initializer, attribute, subgraph) keeps its bytes in an external file. */
  hasExternalData(): boolean {
    const graph = (g: GraphMessage): boolean =>
      (g.initializer ?? []).some(isExternal) ||
      (g.node ?? []).some((n) => (n.attribute ?? []).some((a) =>
        (a.t !== undefined && isExternal(a.t)) || (a.tensors ?? []).some(isExternal) || (a.g !== undefined && graph(a.g)) || (a.graphs ?? []).some(graph)));
    return graph(this.graph);
  }

  /** External tensors outside the main graph's initializers (attributes, subgraphs) are taken inline: their locations would not survive a move. */
  private inlineNestedExternal(proto: ModelMessage): void {
    const visitTensor = (t: TensorMessage): void => {
      if (!isExternal(t)) return;
      t.rawData = this.readExternal(t);
      delete t.externalData;
      delete t.dataLocation;
    };
    const visitGraph = (g: GraphMessage, top: boolean): void => {
      if (!top) for (const t of g.initializer ?? []) visitTensor(t);
      for (const n of g.node ?? []) {
        for (const a of n.attribute ?? []) {
          if (a.t) visitTensor(a.t);
          for (const t of a.tensors ?? []) visitTensor(t);
          if (a.g) visitGraph(a.g, false);
          for (const sg of a.graphs ?? []) visitGraph(sg, false);
        }
      }
    };
    if (proto.graph) visitGraph(proto.graph, true);
  }

  /**
   * Encodes the model as pieces (see {@link EncodedModel}); with `external`, large initializers are
   * referenced from that data file. Tensor bytes are shared, not copied.
   */
  encode(external?: ExternalDataLayout): EncodedModel {
    const proto = cloneMessage(this.proto);
    this.inlineNestedExternal(proto);
    return encodeModel(proto, (t) => this.payload(t), external);
  }

  /** The model as one buffer without external data, for handing to a runtime from memory. */
  toBytes(): Uint8Array {
    const e = this.encode();
    if (e.modelSize > PROTOBUF_LIMIT) throw new FormatError(`the model is ${e.modelSize} bytes, more than one protobuf message can hold; save it with external data`, { format: 'onnx' });
    return concatPieces(e.model);
  }

  /**
   * Writes the model to `target` atomically (see {@link AtomicFileWriter}), with external data in
   * `<target name>.data` when asked or when it would not fit in 2 GB. Refuses to overwrite an
   * existing file unless `overwrite` is set, and always refuses the model's own file.
   */
  async save(target: string, options: SaveOptions = {}): Promise<SaveResult> {
    const guard: AtomicWriteOptions = { ...options, source: options.source ?? this.path };
    const mode = options.externalData ?? 'auto';
    const layout: ExternalDataLayout = {
      location: `${basename(target)}.data`,
      threshold: options.externalThreshold ?? 1024,
      align: 4096,
      alignThreshold: 1 << 20,
    };
    let encoded = this.encode(mode === 'always' ? layout : undefined);
    if (encoded.modelSize > PROTOBUF_LIMIT && mode === 'auto') encoded = this.encode(layout);
    if (encoded.modelSize > PROTOBUF_LIMIT) {
      throw new FormatError(`the model would be ${encoded.modelSize} bytes, more than the 2 GB a protobuf message can hold${mode === 'never' ? '; allow external data' : ''}`, { format: 'onnx' });
    }
    const external = encoded.data.length > 0 || mode === 'always';
    const dataPath = external ? `${target}.data` : undefined;
    // Both files share one disk: a full disk is reported with what the pair needs.
    const sized: AtomicWriteOptions = { ...guard, expectedBytes: encoded.modelSize + (external ? encoded.dataSize : 0) };
    const model = await AtomicFileWriter.create(target, sized);
    const data = dataPath === undefined ? undefined : await AtomicFileWriter.create(dataPath, { ...sized, source: guard.source === undefined ? undefined : `${guard.source}.data` }).catch(async (e: unknown) => {
      await model.abort();
      throw e;
    });
    try {
      if (data) {
        for (const chunk of materialize(encoded.data)) await data.write(chunk);
      }
      for (const chunk of materialize(encoded.model)) await model.write(chunk);
      // The data file goes first: a model that appears must find its data.
      if (data) await data.commit();
    } catch (e) {
      await data?.abort();
      await model.abort();
      throw e;
    }
    try {
      await model.commit();
    } catch (e) {
      // Without its model the committed data file is debris.
      if (dataPath !== undefined) await rm(dataPath, { force: true }).catch(() => undefined);
      throw e;
    }
    return dataPath === undefined
      ? { path: target, bytes: encoded.modelSize }
      : { path: target, bytes: encoded.modelSize, dataPath, dataBytes: encoded.dataSize };
  }
}

/** Shorthand for building attributes of new nodes. */
export const Attr = {
  int: (name: string, v: number): AttributeMessage => ({ name, type: AttributeType.INT, i: String(v) }),
  ints: (name: string, v: readonly number[]): AttributeMessage => ({ name, type: AttributeType.INTS, ints: v.map(String) }),
  float: (name: string, v: number): AttributeMessage => ({ name, type: AttributeType.FLOAT, f: v }),
  string: (name: string, v: string): AttributeMessage => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(v) }),
  tensor: (name: string, t: TensorMessage): AttributeMessage => ({ name, type: AttributeType.TENSOR, t }),
} as const;

/** Reads an INT attribute of a node (default when absent). */
export function intAttribute(node: NodeMessage, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.i === undefined ? fallback : Number(a.i);
}
