/**
 * Writes GGUF version 3: magic, version, tensor and metadata counts, typed key/values, tensor
 * infos (name, ggml dims fastest first, type, offset), then each tensor's bytes at a multiple of
 * the alignment. The file appears atomically (temporary file + rename) and never replaces one.
 */
import { atomicWrite, type AtomicWriteOptions } from '../../io/atomicWrite';
import type { GgmlType } from '../../tensor/ggmlBlocks';
import { gguf, GGUF_VALUE_TYPE as VT, type GgufArray, type GgufEntry, type GgufScalar, type GgufValueType } from './GgufMetadata';

/** One tensor to write. */
export interface GgufTensorOut {
  readonly name: string;
  /** Row-major shape (numpy order, as the reader reports it); stored reversed, as ggml lists dims. */
  readonly shape: readonly number[];
  readonly type: GgmlType;
  /** Produces the tensor's encoded bytes when the writer reaches it, so one tensor is held at a time. */
  readonly data: () => Promise<Uint8Array>;
}

/** What goes into the file. */
export interface GgufContent {
  readonly metadata: readonly GgufEntry[];
  readonly tensors: readonly GgufTensorOut[];
}

const DEFAULT_ALIGNMENT = 32;

class ByteSink {
  private readonly parts: Uint8Array[] = [];
  private readonly enc = new TextEncoder();
  length = 0;

  push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }

  private fixed(n: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(n);
    set(new DataView(b.buffer));
    this.push(b);
  }

  u32(v: number): void { this.fixed(4, (d) => d.setUint32(0, v, true)); }
  u64(v: number | bigint): void { this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true)); }
  string(s: string): void {
    const b = this.enc.encode(s);
    this.u64(b.length);
    this.push(b);
  }

  scalar(type: GgufValueType, v: GgufScalar, key: string): void {
    if (type === VT.STRING) {
      if (typeof v !== 'string') throw new Error(`metadata ${key}: expected a string, got ${typeof v}`);
      this.string(v);
      return;
    }
    if (type === VT.BOOL) {
      this.push(new Uint8Array([v === true ? 1 : 0]));
      return;
    }
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new Error(`metadata ${key}: expected a number, got ${typeof v}`);
    const n = Number(v);
    switch (type) {
      case VT.U8: return this.fixed(1, (d) => d.setUint8(0, n));
      case VT.I8: return this.fixed(1, (d) => d.setInt8(0, n));
      case VT.U16: return this.fixed(2, (d) => d.setUint16(0, n, true));
      case VT.I16: return this.fixed(2, (d) => d.setInt16(0, n, true));
      case VT.U32: return this.fixed(4, (d) => d.setUint32(0, n, true));
      case VT.I32: return this.fixed(4, (d) => d.setInt32(0, n, true));
      case VT.F32: return this.fixed(4, (d) => d.setFloat32(0, n, true));
      case VT.U64: return this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
      case VT.I64: return this.fixed(8, (d) => d.setBigInt64(0, BigInt(v), true));
      case VT.F64: return this.fixed(8, (d) => d.setFloat64(0, n, true));
      default: throw new Error(`metadata ${key}: value type ${type} is not a scalar`);
    }
  }

  value(type: GgufValueType, v: GgufScalar | GgufArray, key: string): void {
    if (type !== VT.ARRAY) {
      if (typeof v === 'object') throw new Error(`metadata ${key}: an array given for a scalar type`);
      this.scalar(type, v, key);
      return;
    }
    if (typeof v !== 'object') throw new Error(`metadata ${key}: a scalar given for an array`);
    this.u32(v.itemType);
    this.u64(v.items.length);
    for (const item of v.items) this.value(v.itemType, item, key);
  }

  take(): Uint8Array[] {
    return this.parts.splice(0);
  }
}

function alignmentOf(metadata: readonly GgufEntry[]): number {
  const entry = metadata.find((e) => e.key === 'general.alignment');
  if (!entry) return DEFAULT_ALIGNMENT;
  const a = Number(entry.value);
  if (entry.type !== VT.U32 || !Number.isInteger(a) || a <= 0 || (a & (a - 1)) !== 0) throw new Error(`general.alignment must be a u32 power of two, got ${typeof entry.value === "object" ? 'an array' : String(entry.value)}`);
  return a;
}

function byteLength(t: GgufTensorOut): number {
  const elements = t.shape.reduce((a, b) => a * b, 1);
  const row = t.shape.length ? t.shape[t.shape.length - 1] : 1;
  if (row % t.type.blockSize !== 0) throw new Error(`tensor ${t.name}: rows of ${row} are not whole ${t.type.name} blocks of ${t.type.blockSize}`);
  return (elements / t.type.blockSize) * t.type.typeSize;
}

/**
 * Writes `content` to `target` as GGUF v3; returns the bytes written. `general.alignment` in the
 * metadata (a u32 power of two) sets the data alignment, 32 otherwise. Duplicate keys or tensor
 * names, or a tensor whose bytes do not match its shape and type, fail before the file appears.
 */
export async function writeGguf(target: string, content: GgufContent, options: AtomicWriteOptions = {}): Promise<number> {
  const alignment = alignmentOf(content.metadata);
  const seen = new Set<string>();
  for (const e of content.metadata) {
    if (seen.has(e.key)) throw new Error(`metadata key ${e.key} given twice`);
    seen.add(e.key);
  }
  const names = new Set<string>();
  const sizes = content.tensors.map((t) => {
    if (names.has(t.name)) throw new Error(`tensor ${t.name} given twice`);
    names.add(t.name);
    return byteLength(t);
  });
  const head = new ByteSink();
  head.push(new Uint8Array([0x47, 0x47, 0x55, 0x46]));
  head.u32(3);
  head.u64(content.tensors.length);
  head.u64(content.metadata.length);
  for (const e of content.metadata) {
    head.string(e.key);
    head.u32(e.type);
    head.value(e.type, e.value, e.key);
  }
  let offset = 0;
  const pads: number[] = [];
  content.tensors.forEach((t, i) => {
    head.string(t.name);
    head.u32(t.shape.length);
    for (let d = t.shape.length - 1; d >= 0; d--) head.u64(t.shape[d]);
    head.u32(t.type.id);
    head.u64(offset);
    const end = offset + sizes[i];
    const next = Math.ceil(end / alignment) * alignment;
    pads.push(next - end);
    offset = next;
  });
  const headPad = (alignment - (head.length % alignment)) % alignment;
  head.push(new Uint8Array(headPad));
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield* head.take();
    for (let i = 0; i < content.tensors.length; i++) {
      const t = content.tensors[i];
      const bytes = await t.data();
      if (bytes.length !== sizes[i]) throw new Error(`tensor ${t.name}: ${bytes.length} bytes given, ${t.type.name} [${t.shape.join(', ')}] takes ${sizes[i]}`);
      yield bytes;
      // The last tensor is padded too: llama.cpp maps whole aligned ranges.
      if (pads[i]) yield new Uint8Array(pads[i]);
    }
  }
  const total = head.length + sizes.reduce((n, b, i) => n + b + pads[i], 0);
  return atomicWrite(target, chunks(), { ...options, expectedBytes: options.expectedBytes ?? total });
}

/** `general.alignment` as an entry, for writers that want a non-default alignment. */
export function alignmentEntry(alignment: number): GgufEntry {
  return gguf.u32('general.alignment', alignment);
}
