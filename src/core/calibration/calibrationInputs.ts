/**
 * Where calibration batches come from: files the user gives (`.npy`/`.npz` per input name, ONNX
 * TensorProto `.pb` files as in ONNX's test data sets) or inputs generated from the model's
 * declared input types and shapes. A batch maps input names to tensors in ONNX Runtime's type
 * names, ready to feed.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { FormatError } from '../FormatError';
import { openCheckpoint } from '../formats/registry';
import { onnxTypeName } from '../formats/onnx/onnxDataTypes';
import { seededRandom } from '../random/seededRandom';
import { readTensor } from '../tensor/TensorReader';
import { floatToHalf } from '../tensor/floatToHalf';
import { editType } from '../onnx/onnxEditSchema';
import { ElementType, type TensorMessage } from '../onnx/onnxMessages';
import { embeddingRows } from '../onnx/embeddingTable';
import type { OnnxModel } from '../onnx/OnnxModel';
import { inlineTensorBytes, tensorDims, tensorElements } from '../onnx/tensorData';

/** Numeric arrays a feed may hold. */
export type FeedArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** One input tensor of a batch; `type` is ONNX Runtime's name (`float32`, `int64`, `bool`, …). */
export interface FeedTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: FeedArray;
}

/** A calibration batch: input name → tensor. */
export type Batch = Record<string, FeedTensor>;

/** A declared graph input. */
export interface InputSpec {
  readonly name: string;
  readonly elemType: number;
  /** Fixed sizes as numbers, symbolic ones as their names, unknown ones as undefined. */
  readonly shape: readonly (number | string | undefined)[] | undefined;
  /** For integer inputs that index an embedding: its row count, so generated ids stay below it. */
  readonly vocabSize?: number;
}

/** Options that fix the sizes and values of generated inputs. */
export interface SyntheticOptions {
  /** The first (batch) axis when it is symbolic or unknown. Default 1. */
  readonly batchSize?: number;
  /** Other symbolic or unknown axes. Default 128. */
  readonly sequenceLength?: number;
  /** Sizes of named symbolic dimensions; they win over the two defaults above. */
  readonly dims?: Readonly<Record<string, number>>;
  /**
   * Integer inputs (token ids) are drawn from [0, vocabSize). Default 1000; an input that indexes
   * an embedding ({@link InputSpec.vocabSize}) never gets ids beyond its rows.
   */
  readonly vocabSize?: number;
  /** Seed of the pseudo-random generator. Default 0. */
  readonly seed?: number;
}

const ORT_TYPES: Readonly<Record<number, string>> = {
  [ElementType.FLOAT]: 'float32', [ElementType.DOUBLE]: 'float64', [ElementType.FLOAT16]: 'float16',
  [ElementType.INT64]: 'int64', [ElementType.INT32]: 'int32', [ElementType.INT16]: 'int16', [ElementType.INT8]: 'int8',
  [ElementType.UINT64]: 'uint64', [ElementType.UINT32]: 'uint32', [ElementType.UINT16]: 'uint16', [ElementType.UINT8]: 'uint8',
  [ElementType.BOOL]: 'bool',
};

/** ONNX Runtime's name for an ONNX element type; throws for types we cannot feed. */
export function ortTypeName(elemType: number): string {
  const t = ORT_TYPES[elemType];
  if (!t) throw new FormatError(`calibration cannot feed inputs of type ${onnxTypeName(elemType)}`, { format: 'onnx' });
  return t;
}

const INTEGER_TYPES = new Set<number>([ElementType.INT64, ElementType.INT32, ElementType.INT16, ElementType.INT8, ElementType.UINT64, ElementType.UINT32, ElementType.UINT16, ElementType.UINT8]);

/**
 * The graph inputs a caller must feed (initializers listed as inputs by old IR versions excluded),
 * with the embedding size of each integer input that indexes one.
 */
export function declaredInputs(model: OnnxModel): InputSpec[] {
  const inits = new Set((model.graph.initializer ?? []).map((t) => t.name));
  return (model.graph.input ?? [])
    .filter((v) => v.name && !inits.has(v.name))
    .map((v) => {
      const tt = v.type?.tensorType;
      if (!tt) throw new FormatError(`input ${v.name ?? ''} is not a tensor; calibration feeds tensors only`, { format: 'onnx' });
      const shape = tt.shape?.dim?.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : d.dimParam || undefined));
      const name = v.name ?? '';
      const elemType = tt.elemType ?? 0;
      const vocabSize = INTEGER_TYPES.has(elemType) ? embeddingRows(model, name) : undefined;
      return vocabSize === undefined ? { name, elemType, shape } : { name, elemType, shape, vocabSize };
    });
}

/**
 * Symbolic dims of decoders with a KV cache (ONNX Runtime GenAI's and Optimum's names): the
 * generated batch is a prefill, with an empty cache and a mask as long as the sequence.
 */
const KV_CACHE_DIMS: Readonly<Record<string, 'past' | 'total'>> = {
  past_sequence_length: 'past', past_seq_len: 'past', past_sequence_len: 'past',
  total_sequence_length: 'total', total_seq_len: 'total', 'past_sequence_length + 1': 'total', 'past_sequence_length + sequence_length': 'total',
};

/**
 * Concrete sizes for a declared shape: named dims from options, then KV-cache dims (past 0,
 * total the sequence length), then batch for axis 0, then the sequence length.
 */
export function resolveShape(spec: InputSpec, options: SyntheticOptions = {}): number[] {
  const batch = options.batchSize ?? 1;
  const seq = options.sequenceLength ?? 128;
  return (spec.shape ?? []).map((d, axis) => {
    if (typeof d === 'number' && d >= 0) return d;
    const named = typeof d === 'string' ? options.dims?.[d] : undefined;
    if (named !== undefined) return named;
    const cache = typeof d === 'string' && Object.prototype.hasOwnProperty.call(KV_CACHE_DIMS, d) ? KV_CACHE_DIMS[d] : undefined;
    if (cache === 'past') return 0;
    if (cache === 'total') return seq;
    return axis === 0 ? batch : seq;
  });
}

export { floatToHalf } from '../tensor/floatToHalf';

/** True for a decoder's KV-cache input (a dim named as the past sequence), which a prefill feeds empty. */
export function isPastCacheInput(spec: InputSpec): boolean {
  return spec.shape?.some((d) => typeof d === 'string' && Object.prototype.hasOwnProperty.call(KV_CACHE_DIMS, d) && KV_CACHE_DIMS[d] === 'past') ?? false;
}

/**
 * Generates batches from the declared inputs: floats standard normal (Box–Muller), integers
 * uniform in [0, vocabSize) (token ids), inputs named like masks all ones. Seeded, so two runs
 * with the same options see the same data.
 */
export class SyntheticInputs {
  private readonly random: () => number;

  constructor(private readonly specs: readonly InputSpec[], private readonly options: SyntheticOptions = {}) {
    this.random = seededRandom(options.seed ?? 0);
    for (const s of specs) ortTypeName(s.elemType);
  }

  /** The next batch. */
  next(): Batch {
    const batch: Batch = {};
    for (const s of this.specs) batch[s.name] = this.generate(s);
    return batch;
  }

  private normal(): number {
    const u = 1 - this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
  }

  private generate(spec: InputSpec): FeedTensor {
    const dims = resolveShape(spec, this.options);
    const n = dims.reduce((a, b) => a * b, 1);
    const type = ortTypeName(spec.elemType);
    const mask = /mask/i.test(spec.name);
    const vocab = Math.max(1, Math.min(this.options.vocabSize ?? spec.vocabSize ?? 1000, spec.vocabSize ?? Infinity));
    const int = (): number => (mask ? 1 : Math.floor(this.random() * vocab));
    switch (type) {
      case 'float32': return { type, dims, data: Float32Array.from({ length: n }, () => (mask ? 1 : this.normal())) };
      case 'float64': return { type, dims, data: Float64Array.from({ length: n }, () => (mask ? 1 : this.normal())) };
      case 'float16': return { type, dims, data: Uint16Array.from({ length: n }, () => floatToHalf(mask ? 1 : this.normal())) };
      case 'int64': return { type, dims, data: BigInt64Array.from({ length: n }, () => BigInt(int())) };
      case 'uint64': return { type, dims, data: BigUint64Array.from({ length: n }, () => BigInt(int())) };
      case 'int32': return { type, dims, data: Int32Array.from({ length: n }, int) };
      case 'uint32': return { type, dims, data: Uint32Array.from({ length: n }, int) };
      case 'int16': return { type, dims, data: Int16Array.from({ length: n }, () => Math.min(int(), 32767)) };
      case 'uint16': return { type, dims, data: Uint16Array.from({ length: n }, () => Math.min(int(), 65535)) };
      case 'int8': return { type, dims, data: Int8Array.from({ length: n }, () => Math.min(int(), 127)) };
      case 'uint8': return { type, dims, data: Uint8Array.from({ length: n }, () => Math.min(int(), 255)) };
      default: return { type, dims, data: Uint8Array.from({ length: n }, () => (mask ? 1 : Math.round(this.random()))) };
    }
  }
}

/** Converts float values (as read from an array file) to the input's element type. */
function toFeed(values: Float32Array | Float64Array, dims: readonly number[], spec: InputSpec): FeedTensor {
  const type = ortTypeName(spec.elemType);
  const n = values.length;
  switch (type) {
    case 'float32': return { type, dims, data: values instanceof Float32Array ? values : Float32Array.from(values) };
    case 'float64': return { type, dims, data: Float64Array.from(values) };
    case 'int64': return { type, dims, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.round(values[i]))) };
    case 'uint64': return { type, dims, data: BigUint64Array.from({ length: n }, (_, i) => BigInt(Math.round(values[i]))) };
    case 'int32': return { type, dims, data: Int32Array.from(values) };
    case 'uint32': return { type, dims, data: Uint32Array.from(values) };
    case 'int16': return { type, dims, data: Int16Array.from(values) };
    case 'uint16': return { type, dims, data: Uint16Array.from(values) };
    case 'int8': return { type, dims, data: Int8Array.from(values) };
    case 'uint8': case 'bool': return { type, dims, data: Uint8Array.from(values) };
    default: throw new FormatError(`input ${spec.name} of type ${type} cannot be read from an array file`, { format: 'onnx' });
  }
}

/** Copies raw little-endian bytes into a typed array of the input's element type. */
function fromRaw(bytes: Uint8Array, dims: readonly number[], elemType: number): FeedTensor {
  const type = ortTypeName(elemType);
  // An aligned copy that owns its buffer (Buffer.slice would return a view of a shared pool).
  const own = new Uint8Array(bytes.length);
  own.set(bytes);
  const buf = own.buffer;
  switch (type) {
    case 'float32': return { type, dims, data: new Float32Array(buf) };
    case 'float64': return { type, dims, data: new Float64Array(buf) };
    case 'float16': case 'uint16': return { type, dims, data: new Uint16Array(buf) };
    case 'int16': return { type, dims, data: new Int16Array(buf) };
    case 'int64': return { type, dims, data: new BigInt64Array(buf) };
    case 'uint64': return { type, dims, data: new BigUint64Array(buf) };
    case 'int32': return { type, dims, data: new Int32Array(buf) };
    case 'uint32': return { type, dims, data: new Uint32Array(buf) };
    case 'int8': return { type, dims, data: new Int8Array(buf) };
    default: return { type, dims, data: new Uint8Array(buf) };
  }
}

function specFor(specs: readonly InputSpec[], name: string | undefined, index: number, file: string): InputSpec {
  const byName = name ? specs.find((s) => s.name === name) : undefined;
  if (byName) return byName;
  if (specs.length === 1) return specs[0];
  if (!name && index < specs.length) return specs[index];
  throw new FormatError(`${basename(file)}: ${name ? `"${name}" is not an input of the model` : 'cannot tell which input it is for'} (inputs: ${specs.map((s) => s.name).join(', ')})`);
}

/** A tensor of `type` whose element i is `value(i)` (for the integer and float types a companion input takes). */
function filledTensor(type: string, dims: readonly number[], value: (i: number) => number): FeedTensor | undefined {
  const n = dims.reduce((a, b) => a * b, 1);
  switch (type) {
    case 'int64': return { type, dims, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(value(i))) };
    case 'int32': return { type, dims, data: Int32Array.from({ length: n }, (_, i) => value(i)) };
    case 'float32': return { type, dims, data: Float32Array.from({ length: n }, (_, i) => value(i)) };
    case 'bool': case 'uint8': return { type, dims, data: Uint8Array.from({ length: n }, (_, i) => value(i)) };
    default: return undefined;
  }
}

/**
 * Fills the inputs a language model's token ids imply when a file gives only the ids: an
 * attention mask of ones, position ids 0..L−1, token type ids of zeros, and an empty KV cache
 * (inputs with a past-sequence dim get length 0), as for a prefill. Other missing inputs stay missing.
 */
function completeFromTokens(batch: Batch, specs: readonly InputSpec[]): void {
  const ids = specs.find((s) => s.vocabSize !== undefined && batch[s.name]?.dims.length === 2);
  if (!ids) return;
  const [rows, length] = batch[ids.name].dims;
  for (const s of specs) {
    if (batch[s.name]) continue;
    const type = ortTypeName(s.elemType);
    let t: FeedTensor | undefined;
    if (/mask/i.test(s.name)) t = filledTensor(type, [rows, length], () => 1);
    else if (s.name === 'position_ids') t = filledTensor(type, [rows, length], (i) => i % length);
    else if (s.name === 'token_type_ids') t = filledTensor(type, [rows, length], () => 0);
    else if (isPastCacheInput(s)) {
      t = filledTensor(type, resolveShape(s, { batchSize: rows, sequenceLength: length }), () => 0);
    }
    if (t) batch[s.name] = t;
  }
}

function checkComplete(batch: Batch, specs: readonly InputSpec[], where: string): Batch {
  completeFromTokens(batch, specs);
  const missing = specs.filter((s) => !batch[s.name]).map((s) => s.name);
  if (missing.length) throw new FormatError(`${where} has no values for input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  for (const s of specs) if (s.vocabSize !== undefined) checkIds(batch[s.name], s.name, s.vocabSize, where);
  return batch;
}

/** Refuses token ids outside [0, rows): ONNX Runtime's Gather would fail on them mid-run. */
function checkIds(t: FeedTensor, input: string, rows: number, where: string): void {
  let bad: number | bigint | undefined;
  for (const v of t.data) {
    if (v < 0 || v >= rows) {
      bad = v;
      break;
    }
  }
  if (bad !== undefined) {
    throw new FormatError(`${where}: ${input} holds token id ${bad}, but the model's embedding has ${rows} rows (ids 0 to ${rows - 1}); the data does not belong to this model`);
  }
}

/** Reads an ONNX TensorProto file (`input_0.pb`). */
async function readPb(file: string, specs: readonly InputSpec[], index: number): Promise<[string, FeedTensor]> {
  const bytes = await readFile(file);
  let t: TensorMessage;
  try {
    const T = editType('TensorProto');
    t = T.toObject(T.decode(bytes), { longs: String, enums: Number, defaults: false, arrays: false });
  } catch (e) {
    throw new FormatError(`${basename(file)} is not an ONNX TensorProto: ${e instanceof Error ? e.message : String(e)}`, { format: 'onnx', cause: e });
  }
  const spec = specFor(specs, t.name, index, file);
  const dataType = t.dataType ?? 0;
  if (dataType !== spec.elemType) {
    throw new FormatError(`${basename(file)} holds ${onnxTypeName(dataType)} values but input ${spec.name} is ${onnxTypeName(spec.elemType)}`, { format: 'onnx' });
  }
  tensorElements(t);
  return [spec.name, fromRaw(inlineTensorBytes(t), tensorDims(t), dataType)];
}

/** Reads every array of an `.npy` or `.npz` file as inputs named after the arrays (or the one input). */
async function readArrays(file: string, specs: readonly InputSpec[]): Promise<Batch> {
  const cp = await openCheckpoint(file);
  const batch: Batch = {};
  const single = cp.tensors.length === 1;
  for (const t of cp.tensors) {
    const name = single && extname(file) === '.npy' ? basename(file, '.npy') : t.name;
    const spec = specFor(specs, name, 0, file);
    batch[spec.name] = toFeed(await readTensor(t, { float64: spec.elemType === ElementType.DOUBLE || spec.elemType === ElementType.INT64 }), t.shape, spec);
  }
  return batch;
}

/** Lazily loaded calibration batches from files. */
export interface BatchSource {
  readonly count: number;
  load(index: number): Promise<Batch>;
}

/** Options for {@link calibrationFiles}. */
export interface CalibrationFileOptions {
  /**
   * When the files make a single `.npy`/`.npz` batch, give each of its rows (axis 0) as a batch
   * of its own, so that one file of several sequences yields calibration and held-out batches.
   * Not done when an input declares a fixed batch size other than 1.
   */
  readonly splitRows?: boolean;
}

/**
 * Calibration batches from paths: each `.npz` (arrays named after inputs) is one batch; `.npy`
 * files form one batch together (named after inputs, or one file for a single-input model);
 * `.pb` TensorProto files form one batch together; a language model's companions of its token
 * ids (mask, positions, an empty KV cache) are filled when absent; a folder holding `test_data_set_*` folders
 * (ONNX's layout) gives one batch per set, and any other folder is expanded to its files.
 */
export async function calibrationFiles(paths: readonly string[], specs: readonly InputSpec[], options: CalibrationFileOptions = {}): Promise<BatchSource> {
  const groups: { kind: 'npz' | 'npy' | 'pb'; files: string[] }[] = [];
  const loose: { npy: string[]; pb: string[] } = { npy: [], pb: [] };
  const visit = async (p: string, depth: number): Promise<void> => {
    const s = await stat(p).catch((e: unknown) => {
      throw new FormatError(`cannot read calibration input ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    });
    if (s.isDirectory()) {
      if (depth > 1) return;
      const entries = (await readdir(p)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      const sets = entries.filter((e) => e.startsWith('test_data_set_'));
      if (sets.length) {
        for (const set of sets) {
          const files = (await readdir(join(p, set))).filter((f) => /^input_\d+\.pb$/.test(f)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
          groups.push({ kind: 'pb', files: files.map((f) => join(p, set, f)) });
        }
        return;
      }
      const pbs = entries.filter((e) => e.endsWith('.pb') && !e.startsWith('output_'));
      if (pbs.length) {
        groups.push({ kind: 'pb', files: pbs.map((f) => join(p, f)) });
        return;
      }
      for (const e of entries) if (/\.(npz|npy)$/.test(e)) await visit(join(p, e), depth + 1);
      return;
    }
    const ext = extname(p).toLowerCase();
    if (ext === '.npz') groups.push({ kind: 'npz', files: [p] });
    else if (ext === '.npy') loose.npy.push(p);
    else if (ext === '.pb') loose.pb.push(p);
    else throw new FormatError(`${basename(p)}: calibration files are .npy, .npz or ONNX TensorProto .pb files`);
  };
  for (const p of paths) await visit(p, 0);
  if (loose.npy.length) groups.push({ kind: 'npy', files: loose.npy });
  if (loose.pb.length) groups.push({ kind: 'pb', files: loose.pb });
  if (!groups.length) throw new FormatError(`no calibration files found in ${paths.join(', ')}`);
  const loadGroup = async (index: number): Promise<Batch> => {
    const g = groups[index];
    const batch: Batch = {};
    if (g.kind === 'pb') {
      for (let i = 0; i < g.files.length; i++) {
        const [name, t] = await readPb(g.files[i], specs, i);
        batch[name] = t;
      }
    } else {
      for (const f of g.files) Object.assign(batch, await readArrays(f, specs));
    }
    return checkComplete(batch, specs, g.files.length === 1 ? basename(g.files[0]) : `calibration batch ${index + 1}`);
  };
  if (options.splitRows && groups.length === 1 && groups[0].kind !== 'pb') {
    // One array file of several sequences: each sequence is a batch, so that some can be held out.
    const whole = await loadGroup(0);
    const rows = splittableRows(whole, specs);
    if (rows > 1) return { count: rows, load: (index) => Promise.resolve(rowOf(whole, index, rows)) };
    return { count: 1, load: () => Promise.resolve(whole) };
  }
  return { count: groups.length, load: loadGroup };
}

/**
 * The number of batches a single batch splits into along axis 0: its common leading size when
 * every input has it and no input declares a fixed batch size other than 1; otherwise 1.
 */
function splittableRows(batch: Batch, specs: readonly InputSpec[]): number {
  let rows: number | undefined;
  for (const spec of specs) {
    const t = batch[spec.name];
    const n = t.dims[0];
    if (t.dims.length === 0 || n < 2 || (rows !== undefined && n !== rows)) return 1;
    const declared = spec.shape?.[0];
    if (typeof declared === 'number' && declared !== 1) return 1;
    rows = n;
  }
  return rows ?? 1;
}

/** Row `index` of every tensor of a batch of `rows` rows, as a batch of one. */
function rowOf(batch: Batch, index: number, rows: number): Batch {
  const out: Batch = {};
  for (const [name, t] of Object.entries(batch)) {
    const per = t.data.length / rows;
    out[name] = { type: t.type, dims: [1, ...t.dims.slice(1)], data: t.data.subarray(index * per, (index + 1) * per) };
  }
  return out;
}
