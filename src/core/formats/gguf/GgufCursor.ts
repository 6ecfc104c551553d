import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import { formatBytes } from '../../tensor/formatBytes';
import { GGUF_VALUE_TYPE as VT } from './GgufMetadata';

/** Bytes fetched by the first refill; each later refill doubles, up to {@link MAX_WINDOW}. */
const FIRST_WINDOW = 64 << 10;
const MAX_WINDOW = 8 << 20;

const fail = (message: string, offset: number): FormatError => new FormatError(message, { format: 'gguf', offset });

/**
 * A little-endian reader over a GGUF header of unknown length. It pulls the file through a
 * window, so a header with a 150,000-token vocabulary costs a few reads, and never reads past
 * `limit` bytes (the header size limit) or the end of the file.
 */
export class GgufCursor {
  /** Absolute offset of the next byte. */
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0;
  private window = FIRST_WINDOW;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly file: FileAccessor, private readonly limit: number) {}

  /** Bytes left in the file after the cursor. */
  get left(): number {
    return this.file.size - this.pos;
  }

  /** True when the next `n` bytes are already buffered. */
  has(n: number): boolean {
    return this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.byteLength;
  }

  /** Makes the next `n` bytes available, or fails naming `what` when the file is too short. */
  async fill(n: number, what: string): Promise<void> {
    if (this.has(n)) return;
    if (n > this.left) throw fail(`${what} needs ${formatBytes(n)} at offset ${this.pos} but the file has only ${formatBytes(this.left)} left (is it truncated?)`, this.pos);
    if (this.pos + n > this.limit) throw fail(`the header grows past ${formatBytes(this.limit)}, the limit for a GGUF header`, this.pos);
    // Growing windows keep a small header to one small read and a large one to a few reads.
    const len = Math.min(Math.max(n, this.window), this.left);
    this.window = Math.min(this.window * 2, MAX_WINDOW);
    this.buf = await this.file.read(this.pos, len, undefined, what);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.bufStart = this.pos;
  }

  private at(n: number): number {
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }

  u8(): number { return this.buf[this.at(1)]; }
  i8(): number { return this.view.getInt8(this.at(1)); }
  u16(): number { return this.view.getUint16(this.at(2), true); }
  i16(): number { return this.view.getInt16(this.at(2), true); }
  u32(): number { return this.view.getUint32(this.at(4), true); }
  i32(): number { return this.view.getInt32(this.at(4), true); }
  f32(): number { return this.view.getFloat32(this.at(4), true); }
  f64(): number { return this.view.getFloat64(this.at(8), true); }
  /** A u64 as a number when exact, else a bigint. */
  u64(): number | bigint {
    const v = this.view.getBigUint64(this.at(8), true);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  /** An i64 as a number when exact, else a bigint. */
  i64(): number | bigint {
    const v = this.view.getBigInt64(this.at(8), true);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }

  /** One value of a fixed-size metadata type (neither a string nor an array), already buffered by {@link fill}. */
  fixed(type: number): number | bigint | boolean {
    switch (type) {
      case VT.U8: return this.u8();
      case VT.I8: return this.i8();
      case VT.U16: return this.u16();
      case VT.I16: return this.i16();
      case VT.U32: return this.u32();
      case VT.I32: return this.i32();
      case VT.F32: return this.f32();
      case VT.BOOL: return this.u8() !== 0;
      case VT.U64: return this.u64();
      case VT.I64: return this.i64();
      default: return this.f64();
    }
  }

  /** A u64 that counts or sizes something: huge values are reported against what the file has left. */
  async count(what: string, unitBytes: number): Promise<number> {
    const at = this.pos;
    await this.fill(8, what);
    const v = this.view.getBigUint64(this.at(8), true);
    const max = BigInt(Math.floor(this.left / Math.max(1, unitBytes)));
    if (v > max) {
      const shown = v > 0n && (v & (v - 1n)) === 0n && v > 1n << 20n ? `2^${v.toString(2).length - 1}` : v.toString();
      throw fail(`header declares ${shown} ${what} but the file has only ${formatBytes(this.left)} left`, at);
    }
    return Number(v);
  }

  /** A u64 dimension: any size that is an exact number (the byte range is checked later). */
  async dim(what: string): Promise<number> {
    const at = this.pos;
    await this.fill(8, what);
    const v = this.view.getBigUint64(this.at(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`header declares ${v} ${what}, more than any file holds`, at);
    return Number(v);
  }

  /**
   * The next string when it is already buffered, else undefined (and nothing consumed). Token
   * lists hold 100,000+ short strings; reading them without an await each keeps listing fast.
   */
  bufferedString(): string | undefined {
    if (!this.has(8)) return undefined;
    const o = this.pos - this.bufStart;
    const hi = this.view.getUint32(o + 4, true);
    const n = this.view.getUint32(o, true);
    if (hi !== 0 || !this.has(8 + n)) return undefined;
    const start = o + 8;
    this.pos += 8 + n;
    if (n <= 32) {
      // Short ASCII strings: building them directly beats a TextDecoder call.
      let ascii = true;
      for (let i = start; i < start + n; i++) if (this.buf[i] >= 0x80) { ascii = false; break; }
      if (ascii) return String.fromCharCode(...this.buf.subarray(start, start + n));
    }
    return this.decoder.decode(this.buf.subarray(start, start + n));
  }

  /** A GGUF string: u64 byte length, then UTF-8 bytes. */
  async string(what: string): Promise<string> {
    const n = await this.count(`bytes of ${what}`, 1);
    if (n > this.limit) throw fail(`${what} is ${formatBytes(n)} long, more than the header limit`, this.pos);
    await this.fill(n, what);
    const o = this.at(n);
    return this.decoder.decode(this.buf.subarray(o, o + n));
  }
}
