import { dirname, relative } from 'node:path';
import { FormatError, isFormatError } from '../../FormatError';
import { FileAccessor } from '../../io/FileAccessor';
import type { Graph, GraphNode, GraphValue, MetadataValue, TensorInfo, TensorSource } from '../Checkpoint';
import type { OpenLimits } from '../FormatReader';
import { attributeValue, int64Value, typeText } from './attributeValue';
import { setOwn } from './setOwn';
import { resolveExternalPath } from './resolveExternalPath';
import { onnxDataType, onnxTypeName, type OnnxDataType } from './onnxDataTypes';
import { decodeAs, type AttributeHeader, type GraphHeader, type ModelHeader, type NodeHeader, type TensorHeader, type ValueInfo } from './onnxSchema';
import { decodeTypedData, type TypedChunk } from './decodeTypedData';
import { WireReader, WireType, type WireField } from './WireReader';

/** Everything a listing of an ONNX model yields. */
export interface OnnxModel {
  readonly metadata: Readonly<Record<string, MetadataValue>>;
  readonly graph: Graph;
  readonly tensors: readonly TensorInfo[];
  /** External data files the tensors point into, relative to the model, with their sizes. */
  readonly externalFiles: Readonly<Record<string, number>>;
}

/** Subgraphs (If/Loop/Scan bodies) nested deeper than this are refused: real models nest a few levels. */
const MAX_DEPTH = 64;
/** Typed-field tensor data is decoded into memory; beyond this many bytes in one tensor it is refused. */
const MAX_TYPED_BYTES = 64 * 1024 * 1024;

const TYPED_FIELDS: Readonly<Record<number, OnnxDataType['field']>> = {
  4: 'float_data', 5: 'int32_data', 6: 'string_data', 7: 'int64_data', 10: 'double_data', 11: 'uint64_data',
};

/** A TensorProto whose header is decoded and whose data fields are located but not read. */
interface ScannedTensor {
  readonly header: TensorHeader;
  readonly raw: WireField | undefined;
  readonly typed: readonly WireField[];
}

/** A graph after scanning: its header, nodes and counts. */
interface ScannedGraph {
  readonly header: GraphHeader;
  readonly nodes: GraphNode[];
  readonly initializers: number;
}

/**
 * Walks ModelProto → GraphProto → NodeProto/TensorProto over the file with a wire-format scanner.
 * Large payloads (raw_data, typed data, attribute tensors, subgraphs) are located and never handed to
 * protobufjs; the small remainder of each message is decoded with the ONNX schema.
 */
export class OnnxScanner {
  private readonly r: WireReader;
  private readonly tensors: TensorInfo[] = [];
  private readonly externalSizes = new Map<string, number | undefined>();
  private readonly externalPaths = new Map<string, string>();
  private entries = 0;

  constructor(private readonly file: FileAccessor, private readonly limits: OpenLimits) {
    this.r = new WireReader(file, limits.maxHeaderBytes);
  }

  /** Lists the model. Throws {@link FormatError} for anything that is not a sound ModelProto. */
  async scan(): Promise<OnnxModel> {
    let graphField: WireField | undefined;
    const rest = await this.fields(0, this.file.size, 'the model header', (f) => {
      if (f.field === 7 && f.wireType === WireType.Bytes) {
        graphField = f;
        return true;
      }
      // training_info and functions are not part of the inference graph we list.
      return f.field === 20 || f.field === 25;
    });
    const model = this.decode<ModelHeader>('ModelProto', rest, 0);
    if (!graphField) throw new FormatError(`${this.file.path} is not an ONNX model: it has no graph`, { format: 'onnx' });
    const g = await this.graph(graphField, '', 0);
    const opsets: Record<string, number> = {};
    for (const o of model.opsetImport ?? []) setOwn(opsets, o.domain ?? '', Number(int64Value(o.version)));
    const props: Record<string, string> = {};
    for (const p of model.metadataProps ?? []) setOwn(props, p.key ?? '', p.value ?? '');
    const externalFiles: Record<string, number> = {};
    for (const [path, size] of this.externalSizes) if (size !== undefined) setOwn(externalFiles, relative(dirname(this.file.path), path), size);
    const graph: Graph = {
      name: g.header.name ?? '',
      nodes: g.nodes,
      inputs: (g.header.input ?? []).map(graphValue),
      outputs: (g.header.output ?? []).map(graphValue),
      opsets,
    };
    const metadata: Record<string, MetadataValue> = {
      ir_version: int64Value(model.irVersion),
      producer_name: model.producerName ?? '',
      producer_version: model.producerVersion ?? '',
      domain: model.domain ?? '',
      model_version: int64Value(model.modelVersion),
      doc_string: model.docString ?? '',
      opsets,
      metadata_props: props,
      graph_name: graph.name,
      nodes: g.nodes.length,
      initializers: g.initializers,
    };
    return { metadata, graph, tensors: this.tensors, externalFiles };
  }

  /**
   * Visits every field of the message in [start, end). Fields the visitor claims are skipped; the
   * raw bytes of the others are returned for protobufjs to decode.
   */
  private async fields(start: number, end: number, what: string, visit: (f: WireField) => boolean | Promise<boolean>): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let size = 0;
    let pos = start;
    while (pos < end) {
      this.r.pos = pos;
      const f = this.r.nextInWindow(end) ?? (await this.r.next(end));
      pos = f.end;
      const claimed = visit(f);
      if (typeof claimed === 'boolean' ? claimed : await claimed) continue;
      const bytes = this.r.bytesInWindow(f.tagStart, f.end, what) ?? (await this.r.bytes(f.tagStart, f.end, what));
      parts.push(bytes);
      size += bytes.length;
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private decode<T>(type: string, bytes: Uint8Array, offset: number): T {
    try {
      return decodeAs<T>(type, bytes);
    } catch (e) {
      throw new FormatError(`corrupt ONNX ${type} near byte ${offset} of ${this.file.path}: ${e instanceof Error ? e.message : String(e)}`, { format: 'onnx', offset, cause: e });
    }
  }

  private count(what: string): void {
    if (++this.entries > this.limits.maxEntries) {
      throw new FormatError(`the model has more than ${this.limits.maxEntries} nodes and tensors (while reading ${what})`, { format: 'onnx' });
    }
  }

  private async graph(field: WireField, prefix: string, depth: number): Promise<ScannedGraph> {
    if (depth > MAX_DEPTH) throw new FormatError(`subgraphs are nested more than ${MAX_DEPTH} levels deep`, { format: 'onnx', offset: field.start });
    const nodes: GraphNode[] = [];
    let initializers = 0;
    // Nodes and initializers are handled as they come, so the file is read front to back.
    const rest = await this.fields(field.start, field.end, 'a graph header', async (f) => {
      if (f.wireType !== WireType.Bytes) return false;
      if (f.field === 1) {
        this.count('nodes');
        nodes.push(await this.node(f, prefix, nodes.length, depth));
      } else if (f.field === 5) {
        this.count('initializers');
        const t = await this.tensorProto(f);
        this.tensors.push(await this.tensorInfo(t, prefix + (t.header.name ?? ''), f.start));
        initializers++;
      }
      // value_info, quantization_annotation and sparse initializers are not listed.
      return f.field === 1 || f.field === 5 || f.field === 13 || f.field === 14 || f.field === 15;
    });
    const header = this.decode<GraphHeader>('GraphProto', rest, field.start);
    return { header, nodes, initializers };
  }

  private async node(field: WireField, prefix: string, index: number, depth: number): Promise<GraphNode> {
    const attrFields: WireField[] = [];
    const rest = await this.fields(field.start, field.end, 'a node', (f) => {
      if (f.field !== 5 || f.wireType !== WireType.Bytes) return false;
      attrFields.push(f);
      return true;
    });
    const h = this.decode<NodeHeader>('NodeProto', rest, field.start);
    const opType = h.opType ?? '';
    const label = h.name || `${opType}_${index}`;
    const attributes: Record<string, MetadataValue> = {};
    const isConstant = opType === 'Constant' && (!h.domain || h.domain === 'ai.onnx');
    for (const f of attrFields) {
      const a = await this.attribute(f, `${prefix}${label}/`, depth);
      setOwn(attributes, a.header.name ?? '', a.value);
      const out = h.output?.[0];
      if (isConstant && out !== undefined) await this.constant(a.header, a.tensor, prefix + out, f.start);
    }
    return { name: h.name ?? '', opType, domain: h.domain ?? '', inputs: h.input ?? [], outputs: h.output ?? [], attributes };
  }

  private async attribute(field: WireField, prefix: string, depth: number): Promise<{ header: AttributeHeader; value: MetadataValue; tensor: ScannedTensor | undefined }> {
    const big: WireField[] = [];
    const rest = await this.fields(field.start, field.end, 'a node attribute', (f) => {
      if (f.wireType !== WireType.Bytes || ![5, 6, 10, 11, 22, 23].includes(f.field)) return false;
      big.push(f);
      return true;
    });
    const header = this.decode<AttributeHeader>('AttributeProto', rest, field.start);
    const tensors: MetadataValue[] = [];
    const graphs: MetadataValue[] = [];
    const sparse: MetadataValue[] = [];
    let first: ScannedTensor | undefined;
    for (const f of big) {
      if (f.field === 5 || f.field === 10) {
        const t = await this.tensorProto(f);
        first ??= t;
        tensors.push(tensorSummary(t.header));
      } else if (f.field === 6 || f.field === 11) {
        const g = await this.graph(f, `${prefix}${header.name ?? ''}/`, depth + 1);
        graphs.push({ graph: g.header.name ?? '', nodes: g.nodes.length, initializers: g.initializers });
      } else {
        sparse.push({ sparse_tensor: true });
      }
    }
    return { header, value: attributeValue(header, { tensors, graphs, sparse }), tensor: first };
  }

  /** Lists the weight a Constant node carries, named after the node's output. */
  private async constant(a: AttributeHeader, tensor: ScannedTensor | undefined, name: string, offset: number): Promise<void> {
    const inline = (dtype: 'F32' | 'I64', shape: number[], values: readonly number[] | readonly string[]): void => {
      const bytes = new Uint8Array(values.length * (dtype === 'F32' ? 4 : 8));
      const view = new DataView(bytes.buffer);
      values.forEach((v, i) => (dtype === 'F32' ? view.setFloat32(i * 4, Number(v), true) : view.setBigInt64(i * 8, BigInt(v), true)));
      this.count('constants');
      this.tensors.push({ name, dtype, shape, elements: values.length, byteLength: bytes.length, littleEndian: true, source: { kind: 'inline', bytes } });
    };
    switch (a.name) {
      case 'value':
        if (tensor) {
          this.count('constants');
          this.tensors.push(await this.tensorInfo(tensor, name, offset));
        }
        return;
      case 'value_float': return inline('F32', [], [a.f ?? 0]);
      case 'value_floats': return inline('F32', [a.floats?.length ?? 0], a.floats ?? []);
      case 'value_int': return inline('I64', [], [a.i ?? '0']);
      case 'value_ints': return inline('I64', [a.ints?.length ?? 0], a.ints ?? []);
      default: return; // strings and sparse values are not weights
    }
  }

  private async tensorProto(field: WireField): Promise<ScannedTensor> {
    let raw: WireField | undefined;
    const typed: WireField[] = [];
    const rest = await this.fields(field.start, field.end, 'a tensor header', (f) => {
      if (f.field === 9 && f.wireType === WireType.Bytes) {
        raw = f;
        return true;
      }
      if (TYPED_FIELDS[f.field] === undefined) return false;
      typed.push(f);
      return true;
    });
    return { header: this.decode<TensorHeader>('TensorProto', rest, field.start), raw, typed };
  }

  private async tensorInfo(t: ScannedTensor, name: string, offset: number): Promise<TensorInfo> {
    const h = t.header;
    const code = h.dataType ?? 0;
    const type = onnxDataType(code);
    const shape = (h.dims ?? []).map((d) => {
      const n = Number(d);
      if (!Number.isSafeInteger(n) || n < 0) throw new FormatError(`tensor ${name} has an invalid dimension ${d}`, { format: 'onnx', offset });
      return n;
    });
    let elements = 1;
    for (const d of shape) elements *= d;
    if (!Number.isSafeInteger(elements)) throw new FormatError(`tensor ${name} declares an impossible number of elements (${shape.join('×')})`, { format: 'onnx', offset });
    const byteLength = Math.ceil(elements * (type?.bytes ?? 0));
    const base = { name, shape, elements, byteLength, littleEndian: true };
    const unsupported = (reason: string): TensorInfo => ({ ...base, dtype: type?.dtype ?? 'U8', source: { kind: 'none', reason } });
    if (!type) return unsupported(`ONNX data type ${onnxTypeName(code)} is not supported`);
    if (h.segment) return unsupported('segmented tensors are not supported');
    const dtype = type.dtype;
    if (h.dataLocation === 1) {
      const source = await this.external(h, name, byteLength, dtype !== undefined && dtype !== 'STRING', offset);
      return dtype === undefined || dtype === 'STRING' ? unsupported(`ONNX ${type.name} values are not decoded`) : { ...base, dtype, source };
    }
    if (dtype === undefined || dtype === 'STRING') return unsupported(`ONNX ${type.name} values are not decoded`);
    if (t.raw) {
      const length = t.raw.end - t.raw.start;
      if (length !== byteLength) {
        throw new FormatError(`tensor ${name} has ${length} bytes of raw_data but ${type.name}${JSON.stringify(shape)} needs ${byteLength}`, { format: 'onnx', offset: t.raw.start });
      }
      return { ...base, dtype, source: { kind: 'file', path: this.file.path, offset: t.raw.start, length } };
    }
    const chunks = t.typed.filter((f) => TYPED_FIELDS[f.field] === type.field);
    if (elements === 0) return { ...base, dtype, source: { kind: 'inline', bytes: new Uint8Array(0) } };
    if (chunks.length === 0) return unsupported('the tensor holds no data');
    // Packed float_data/double_data already is the little-endian array raw_data would hold.
    const single = chunks.length === 1 ? chunks[0] : undefined;
    if (single && single.wireType === WireType.Bytes && (type.field === 'float_data' || type.field === 'double_data')) {
      const length = single.end - single.start;
      if (length !== byteLength) {
        throw new FormatError(`tensor ${name} has ${length} bytes of ${type.field} but ${type.name}${JSON.stringify(shape)} needs ${byteLength}`, { format: 'onnx', offset: single.start });
      }
      return { ...base, dtype, source: { kind: 'file', path: this.file.path, offset: single.start, length } };
    }
    let packed = 0;
    for (const c of chunks) packed += c.end - c.start;
    if (byteLength > MAX_TYPED_BYTES || packed > 10 * MAX_TYPED_BYTES) {
      throw new FormatError(`tensor ${name} stores ${byteLength} bytes in ${type.field ?? 'typed fields'}, more than the ${MAX_TYPED_BYTES} this reader decodes`, { format: 'onnx', offset });
    }
    const parts: TypedChunk[] = [];
    for (const c of chunks) parts.push({ wireType: c.wireType, bytes: await this.r.bytes(c.start, c.end, `the data of tensor ${name}`) });
    return { ...base, dtype, source: { kind: 'inline', bytes: decodeTypedData(type, name, parts, elements) } };
  }

  private async external(h: TensorHeader, name: string, byteLength: number, checkLength: boolean, at: number): Promise<TensorSource> {
    const entries = new Map<string, string>();
    for (const e of h.externalData ?? []) entries.set(e.key ?? '', e.value ?? '');
    const location = entries.get('location');
    if (location === undefined) throw new FormatError(`external tensor ${name} has no location`, { format: 'onnx', offset: at });
    let path = this.externalPaths.get(location);
    if (path === undefined) {
      path = resolveExternalPath(this.file.path, location);
      this.externalPaths.set(location, path);
    }
    const size = await this.externalSize(path);
    if (size === undefined) return { kind: 'none', reason: `external data file ${location} was not found next to the model` };
    const number = (key: string, fallback: number): number => {
      const v = entries.get(key);
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new FormatError(`external tensor ${name} has an invalid ${key} ${JSON.stringify(v)}`, { format: 'onnx', offset: at });
      return n;
    };
    const offset = number('offset', 0);
    const length = number('length', checkLength ? byteLength : Math.max(0, size - offset));
    if (offset + length > size) {
      throw new FormatError(`external tensor ${name} spans bytes ${offset}..${offset + length} of ${location}, which has only ${size} bytes`, { format: 'onnx', offset: at });
    }
    if (checkLength && length !== byteLength) {
      throw new FormatError(`external tensor ${name} has ${length} bytes in ${location} but its shape needs ${byteLength}`, { format: 'onnx', offset: at });
    }
    return { kind: 'file', path, offset, length };
  }

  private async externalSize(path: string): Promise<number | undefined> {
    if (this.externalSizes.has(path)) return this.externalSizes.get(path);
    let size: number | undefined;
    try {
      size = (await FileAccessor.open(path)).size;
    } catch (e) {
      if (!isFormatError(e)) throw e;
      size = undefined;
    }
    this.externalSizes.set(path, size);
    return size;
  }
}

function tensorSummary(h: TensorHeader): MetadataValue {
  return { tensor: h.name ?? '', dtype: onnxTypeName(h.dataType), shape: (h.dims ?? []).map(int64Value) };
}

function graphValue(v: ValueInfo): GraphValue {
  const tensor = v.type?.tensorType ?? v.type?.sparseTensorType;
  const type = tensor ? onnxTypeName(tensor.elemType) : typeText(v.type);
  const dims = tensor?.shape?.dim;
  const shape = tensor?.shape ? (dims ?? []).map((d) => (d.dimValue !== undefined ? int64Value(d.dimValue) : d.dimParam ?? '?')) : undefined;
  return { name: v.name ?? '', type, shape };
}
