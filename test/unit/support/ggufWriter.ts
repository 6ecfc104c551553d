/**
 * A small GGUF writer for tests: builds files from metadata and tensors given as raw block bytes,
 * so tests can write blocks whose dequantized values are known by construction, and lying
 * headers that no real writer would produce.
 */

/** Metadata value types by GGUF id. */
export const GGUF_TYPE = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 } as const;

/** A metadata entry: key, GGUF value type and value (arrays as `{ type, items }`). */
export interface GgufKv {
  readonly key: string;
  readonly type: number;
  readonly value: GgufValue;
}
/** A metadata value as the writer takes it. */
export type GgufValue = number | bigint | boolean | string | { readonly type: number; readonly items: readonly GgufValue[] };

/** A tensor: ggml dims (fastest first), ggml type id, and its raw bytes. */
export interface GgufTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: number;
  readonly data: Uint8Array;
  /** Override the recorded data offset (to write lying headers). */
  readonly offset?: number;
}

class Bytes {
  private parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.byteLength;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  value(type: number, v: GgufValue): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case GGUF_TYPE.U8: b.writeUInt8(Number(v)); return this.push(b.subarray(0, 1));
      case GGUF_TYPE.I8: b.writeInt8(Number(v)); return this.push(b.subarray(0, 1));
      case GGUF_TYPE.U16: b.writeUInt16LE(Number(v)); return this.push(b.subarray(0, 2));
      case GGUF_TYPE.I16: b.writeInt16LE(Number(v)); return this.push(b.subarray(0, 2));
      case GGUF_TYPE.U32: b.writeUInt32LE(Number(v)); return this.push(b.subarray(0, 4));
      case GGUF_TYPE.I32: b.writeInt32LE(Number(v)); return this.push(b.subarray(0, 4));
      case GGUF_TYPE.F32: b.writeFloatLE(Number(v)); return this.push(b.subarray(0, 4));
      case GGUF_TYPE.BOOL: b.writeUInt8(v ? 1 : 0); return this.push(b.subarray(0, 1));
      case GGUF_TYPE.STRING: return this.str(v as string);
      case GGUF_TYPE.U64: b.writeBigUInt64LE(BigInt(v as number)); return this.push(b);
      case GGUF_TYPE.I64: b.writeBigInt64LE(BigInt(v as number)); return this.push(b);
      case GGUF_TYPE.F64: b.writeDoubleLE(Number(v)); return this.push(b);
      case GGUF_TYPE.ARRAY: {
        const a = v as { type: number; items: readonly GgufValue[] };
        this.u32(a.type);
        this.u64(a.items.length);
        for (const item of a.items) this.value(a.type, item);
        return;
      }
      default: throw new Error(`unknown type ${type}`);
    }
  }
  concat(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Options for {@link writeGguf}. */
export interface GgufOptions {
  readonly version?: number;
  readonly alignment?: number;
  /** Override the declared tensor count (to write lying headers). */
  readonly tensorCount?: number | bigint;
  /** Override the declared metadata count. */
  readonly kvCount?: number | bigint;
}

/** Builds a GGUF file. `general.alignment` is written only if it is among `kvs`. */
export function writeGguf(kvs: readonly GgufKv[], tensors: readonly GgufTensor[], options: GgufOptions = {}): Buffer {
  const alignment = options.alignment ?? 32;
  const out = new Bytes();
  out.push(Buffer.from('GGUF'));
  out.u32(options.version ?? 3);
  out.u64(options.tensorCount ?? tensors.length);
  out.u64(options.kvCount ?? kvs.length);
  for (const kv of kvs) {
    out.str(kv.key);
    out.u32(kv.type);
    out.value(kv.type, kv.value);
  }
  const data = new Bytes();
  for (const t of tensors) {
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(t.type);
    out.u64(t.offset ?? data.length);
    data.push(t.data);
    data.push(new Uint8Array((alignment - (t.data.byteLength % alignment)) % alignment));
  }
  out.push(new Uint8Array((alignment - (out.length % alignment)) % alignment));
  out.push(data.concat());
  return out.concat();
}

/** The binary16 bit pattern of `v` (exact for values binary16 can hold). */
export function f16Bits(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const man = x & 0x7fffff;
  if (v === 0) return sign;
  if (exp <= 0) return sign | ((man | 0x800000) >>> (14 - exp));
  return sign | (exp << 10) | (man >>> 13);
}
