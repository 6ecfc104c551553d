/**
 * Reads a tensor's values as floats, chunk by chunk, from wherever its bytes are (a file range,
 * an inline buffer or a zip member), whatever its dtype: plain numbers, small floats and ggml
 * blocks. Buffers are allocated once per read and reused for every chunk.
 */
import { FormatError } from '../FormatError';
import type { TensorInfo } from './TensorInfo';
import { contiguousStrides, fortranStrides, sameStrides } from './contiguousStrides';
import { dtypeBytes } from './DType';
import { decodeElements, isDecodablePlain, type FloatArray } from './decodeElements';
import { ggmlBlockType } from './ggmlBlocks';
import { tensorBytes } from './tensorBytes';

/** Options for {@link readTensorChunks}. */
export interface ReadTensorOptions {
  /** Elements per chunk (rounded up to whole ggml blocks). Default 1,048,576. */
  readonly chunkElements?: number;
  /** Deliver Float64Array chunks instead of Float32Array. */
  readonly float64?: boolean;
  /**
   * Deliver values in row-major (C) order even when the storage is Fortran-ordered or a permuted
   * view. Off by default: statistics do not care about order, and storage order streams without
   * holding the tensor in memory. Non-dense strided views are always gathered.
   */
  readonly rowMajor?: boolean;
}

/** Default elements per chunk. */
export const DEFAULT_CHUNK_ELEMENTS = 1 << 20;
/** Largest tensor {@link readTensor} returns whole; larger ones must be streamed. */
export const DEFAULT_MAX_READ_ELEMENTS = 1 << 26;
/** Largest tensor we hold in memory to reorder it (Fortran order to row-major, strided views). */
export const MAX_GATHER_ELEMENTS = 1 << 26;

/** How a tensor's bytes turn into values: `unitElements` values per `unitBytes` bytes. */
interface Codec {
  readonly unitElements: number;
  readonly unitBytes: number;
  decode(bytes: Uint8Array, units: number, out: FloatArray): void;
}

function codecFor(t: TensorInfo): Codec {
  const size = dtypeBytes(t.dtype);
  if (size !== undefined && isDecodablePlain(t.dtype)) {
    return { unitElements: 1, unitBytes: size, decode: (bytes, units, out) => decodeElements(t.dtype, t.littleEndian, bytes, units, out) };
  }
  const g = ggmlBlockType(t.dtype);
  if (g) {
    const dequantize = g.dequantize;
    if (!dequantize) throw new FormatError(`statistics not supported for GGML type ${g.name} (tensor ${t.name})`);
    let scratch = new Float32Array(0);
    return {
      unitElements: g.blockSize,
      unitBytes: g.typeSize,
      decode(bytes, units, out) {
        if (out instanceof Float32Array) return dequantize(bytes, units, out);
        // Dequantize in float32 as ggml does, then widen: the values are ggml's exactly.
        if (scratch.length < units * g.blockSize) scratch = new Float32Array(units * g.blockSize);
        dequantize(bytes, units, scratch);
        out.set(scratch.subarray(0, units * g.blockSize));
      },
    };
  }
  throw new FormatError(`values of tensor ${t.name} (dtype ${t.dtype}) cannot be read as numbers`);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True when the strides visit each of the tensor's elements exactly once (a transpose of a dense block). */
function isDense(shape: readonly number[], strides: readonly number[]): boolean {
  const dims = shape.map((n, i) => ({ n, s: strides[i] })).filter((d) => d.n > 1).sort((a, b) => a.s - b.s);
  let expect = 1;
  for (const d of dims) {
    if (d.s !== expect) return false;
    expect *= d.n;
  }
  return true;
}

function validate(t: TensorInfo): void {
  if (t.source.kind === 'none') throw new FormatError(`tensor ${t.name} has no readable data: ${t.source.reason}`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new FormatError(`tensor ${t.name} has an invalid shape [${t.shape.join(', ')}]`);
  const n = product(t.shape);
  if (n !== t.elements) throw new FormatError(`tensor ${t.name} declares ${t.elements} elements but its shape [${t.shape.join(', ')}] holds ${n}`);
  if (t.strides && (t.strides.length !== t.shape.length || !t.strides.every((s) => Number.isSafeInteger(s) && s >= 0))) {
    throw new FormatError(`tensor ${t.name} has invalid strides [${t.strides.join(', ')}]`);
  }
}

function allocate(n: number, float64: boolean): FloatArray {
  return float64 ? new Float64Array(n) : new Float32Array(n);
}

/** Streams `elements` values stored contiguously from the start of the tensor's source. */
async function* streamStored(t: TensorInfo, codec: Codec, elements: number, chunkElements: number, float64: boolean): AsyncGenerator<FloatArray> {
  if (elements % codec.unitElements !== 0) {
    throw new FormatError(`tensor ${t.name} has ${elements} elements, not a whole number of ${codec.unitElements}-element blocks`);
  }
  const units = elements / codec.unitElements;
  const bytes = units * codec.unitBytes;
  if (!Number.isSafeInteger(bytes)) throw new FormatError(`tensor ${t.name} is too large to read`);
  const unitsPerChunk = Math.min(units, Math.max(1, Math.ceil(chunkElements / codec.unitElements)));
  if (units === 0) return;
  const raw = new Uint8Array(unitsPerChunk * codec.unitBytes);
  const out = allocate(unitsPerChunk * codec.unitElements, float64);
  for await (const piece of tensorBytes(t.source, t.name, bytes, codec.unitBytes, raw)) {
    const n = piece.byteLength / codec.unitBytes;
    codec.decode(piece, n, out);
    yield n * codec.unitElements === out.length ? out : out.subarray(0, n * codec.unitElements);
  }
}

/** Reads a strided or Fortran-ordered tensor whole and yields it in row-major order. */
async function* gathered(t: TensorInfo, codec: Codec, strides: readonly number[], chunkElements: number, float64: boolean): AsyncGenerator<FloatArray> {
  if (codec.unitElements !== 1) throw new FormatError(`tensor ${t.name} is a strided view of block-quantized data, which cannot be read`);
  if (t.elements === 0) return;
  let span = 1;
  for (let i = 0; i < strides.length; i++) span += (t.shape[i] - 1) * strides[i];
  if (span > MAX_GATHER_ELEMENTS || t.elements > MAX_GATHER_ELEMENTS) {
    throw new FormatError(`tensor ${t.name} is stored out of row-major order and is too large (${span} elements) to reorder in memory`);
  }
  const stored = allocate(span, float64);
  let at = 0;
  for await (const chunk of streamStored(t, codec, span, chunkElements, float64)) {
    stored.set(chunk, at);
    at += chunk.length;
  }
  const out = allocate(t.elements, float64);
  const rank = t.shape.length;
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < t.elements; i++) {
    out[i] = stored[src];
    // Odometer over the row-major index, moving the source position by the strides.
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < t.shape[d]) {
        src += strides[d];
        break;
      }
      src -= (t.shape[d] - 1) * strides[d];
      index[d] = 0;
    }
  }
  for (let i = 0; i < t.elements; i += chunkElements) yield out.subarray(i, Math.min(t.elements, i + chunkElements));
}

/**
 * The values of `tensor` as a sequence of chunks. Each chunk reuses the same buffer, so consume
 * (or copy) it before asking for the next. Throws {@link FormatError} when the data is missing,
 * truncated, or of a type that has no numeric reading (IQ* blocks, strings, complex).
 */
export function readTensorChunks(tensor: TensorInfo, options: ReadTensorOptions & { readonly float64: true }): AsyncIterable<Float64Array>;
export function readTensorChunks(tensor: TensorInfo, options?: ReadTensorOptions & { readonly float64?: false }): AsyncIterable<Float32Array>;
export function readTensorChunks(tensor: TensorInfo, options?: ReadTensorOptions): AsyncIterable<FloatArray>;
export async function* readTensorChunks(tensor: TensorInfo, options: ReadTensorOptions = {}): AsyncIterable<FloatArray> {
  const chunkElements = Math.max(1, Math.floor(options.chunkElements ?? DEFAULT_CHUNK_ELEMENTS));
  const float64 = options.float64 === true;
  validate(tensor);
  const codec = codecFor(tensor);
  const shape = tensor.shape;
  const row = contiguousStrides(shape);
  let strides: readonly number[] | undefined = tensor.strides;
  if (!strides && tensor.fortranOrder) strides = fortranStrides(shape);
  if (!strides || sameStrides(strides, row, shape) || (!options.rowMajor && isDense(shape, strides))) {
    yield* streamStored(tensor, codec, tensor.elements, chunkElements, float64);
  } else {
    yield* gathered(tensor, codec, strides, chunkElements, float64);
  }
}

/**
 * All values of a small tensor, in row-major order. Refuses tensors over `maxElements` with a
 * {@link FormatError} that says to stream them with {@link readTensorChunks} instead.
 */
export function readTensor(tensor: TensorInfo, options: { readonly float64: true; readonly maxElements?: number }): Promise<Float64Array>;
export function readTensor(tensor: TensorInfo, options?: { readonly float64?: false; readonly maxElements?: number }): Promise<Float32Array>;
export function readTensor(tensor: TensorInfo, options?: { readonly float64?: boolean; readonly maxElements?: number }): Promise<FloatArray>;
export async function readTensor(tensor: TensorInfo, options: { readonly float64?: boolean; readonly maxElements?: number } = {}): Promise<FloatArray> {
  const max = options.maxElements ?? DEFAULT_MAX_READ_ELEMENTS;
  if (!(tensor.elements <= max)) {
    throw new FormatError(`tensor ${tensor.name} has ${tensor.elements} elements, more than the ${max} read at once; read it in chunks instead`);
  }
  validate(tensor);
  const out = allocate(tensor.elements, options.float64 === true);
  let at = 0;
  for await (const chunk of readTensorChunks(tensor, { float64: options.float64 === true, rowMajor: true, chunkElements: DEFAULT_CHUNK_ELEMENTS })) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
