import { AtomicFileWriter, type AtomicWriteOptions } from '../../io/atomicWrite';
import { dtypeBytes, type DType } from '../../tensor/DType';

/** One tensor to write: its bytes are given, or produced when the writer reaches it. */
export interface SafetensorsTensor {
  /** The tensor's name in the header (unique within the file, not `__metadata__`). */
  readonly name: string;
  /** A plain safetensors dtype (`F16`, `I32`, …). */
  readonly dtype: DType;
  /** Row-major shape. */
  readonly shape: readonly number[];
  /**
   * Little-endian row-major bytes, exactly shape × dtype size of them. A function is called only
   * when the writer gets to this tensor, so a large file never holds more than one tensor.
   */
  readonly data: Uint8Array | (() => Promise<Uint8Array> | Uint8Array);
}

/** Options of {@link writeSafetensors}. */
export interface SafetensorsWriteOptions extends AtomicWriteOptions {
  /** `__metadata__`: string keys to string values, as the format allows. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Bytes of a tensor of `dtype` and `shape`; throws for a dtype without a fixed element size. */
export function safetensorsByteLength(name: string, dtype: DType, shape: readonly number[]): number {
  const size = dtypeBytes(dtype);
  if (size === undefined || dtype === 'C64' || dtype === 'C128') throw new RangeError(`tensor ${name}: dtype ${dtype} cannot be stored in safetensors`);
  let n = size;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`tensor ${name} has an invalid dimension ${String(d)}`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new RangeError(`tensor ${name} is too large`);
  return n;
}

/**
 * The header of a safetensors file holding `tensors` in the given order: the 8-byte little-endian
 * length, then the JSON object with each tensor's dtype, shape and data_offsets (contiguous from
 * 0). The JSON is padded with spaces so that the data starts at a multiple of 8 bytes, which the
 * format's reference writer does so that readers can map tensors aligned.
 */
export function safetensorsHeader(tensors: readonly Omit<SafetensorsTensor, 'data'>[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name === '') throw new RangeError(`a tensor cannot be named ${JSON.stringify(t.name)}`);
    if (Object.prototype.hasOwnProperty.call(header, t.name)) throw new RangeError(`tensor ${t.name} is listed twice`);
    const bytes = safetensorsByteLength(t.name, t.dtype, t.shape);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded % 4294967296, true);
  view.setUint32(4, Math.floor(padded / 4294967296), true);
  out.set(json, 8);
  return out;
}

/** The bytes of a typed array, in the machine's order (little-endian on every platform Node runs on). */
export function littleEndianBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Writes a safetensors file: the bytes go to a temporary file beside `target`, which is renamed
 * onto it only when complete, and an existing file is never replaced unless `overwrite`. Each
 * tensor's bytes must match its shape and dtype. Returns the bytes written.
 *
 * @throws {RangeError} for duplicate names, unsupported dtypes or bytes of the wrong length.
 * @throws {TargetExistsError} when the target exists or is the source.
 */
export async function writeSafetensors(target: string, tensors: readonly SafetensorsTensor[], options: SafetensorsWriteOptions = {}): Promise<number> {
  const header = safetensorsHeader(tensors, options.metadata);
  const total = tensors.reduce((n, t) => n + safetensorsByteLength(t.name, t.dtype, t.shape), header.byteLength);
  const w = await AtomicFileWriter.create(target, { ...options, expectedBytes: options.expectedBytes ?? total });
  try {
    await w.write(header);
    for (const t of tensors) {
      const bytes = typeof t.data === 'function' ? await t.data() : t.data;
      const expected = safetensorsByteLength(t.name, t.dtype, t.shape);
      if (bytes.byteLength !== expected) throw new RangeError(`tensor ${t.name} has ${bytes.byteLength} bytes, but shape [${t.shape.join(', ')}] of ${t.dtype} needs ${expected}`);
      await w.write(bytes);
    }
    await w.commit();
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.bytesWritten;
}
