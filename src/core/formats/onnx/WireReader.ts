import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';

/** Protobuf wire types. Groups (3, 4) are not used by ONNX and are rejected. */
export const WireType = { Varint: 0, Fixed64: 1, Bytes: 2, Fixed32: 5 } as const;
/** One of the {@link WireType} codes. */
export type WireType = (typeof WireType)[keyof typeof WireType];

/** One field as the scanner sees it: where it starts, and where its payload lies in the file. */
export interface WireField {
  readonly field: number;
  readonly wireType: WireType;
  /** Offset of the tag. */
  readonly tagStart: number;
  /** Offset of the payload (past the length for wire type 2). */
  readonly start: number;
  /** Offset just past the payload. */
  readonly end: number;
  /** The value of a varint field, as a number when it is exactly representable. */
  readonly varint?: number;
}

/** Window sizes: small after a jump, growing while reads stay sequential. */
const MIN_WINDOW = 4 * 1024;
const MAX_WINDOW = 1024 * 1024;
/** A tag and a length (or a varint) fit in this many bytes. */
const FIELD_HEAD = 20;

/**
 * Reads protobuf fields from a file through a small moving window. Length-delimited fields can be
 * skipped without reading them, which is how tensor payloads stay on disk while a model is listed.
 * Every length is checked against the bytes left in the enclosing message before it is used.
 */
export class WireReader {
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  private window = MIN_WINDOW;
  /** Bytes handed out by {@link bytes} so far, for the header budget. */
  payloadBytes = 0;

  constructor(readonly file: FileAccessor, private readonly maxPayloadBytes: number, public pos = 0) {}

  /** Reads the next field's tag and, for wire type 2, its length; the position moves past the field. */
  async next(end: number): Promise<WireField> {
    await this.need(Math.min(FIELD_HEAD, end - this.pos));
    return this.parseField(end);
  }

  /**
   * {@link next} without waiting, when the field's head is already in the window; undefined otherwise.
   * Listing a model with many small messages mostly takes this path, which saves a promise per field.
   */
  nextInWindow(end: number): WireField | undefined {
    return this.inWindow(this.pos, Math.min(FIELD_HEAD, end - this.pos)) ? this.parseField(end) : undefined;
  }

  private inWindow(at: number, n: number): boolean {
    return at >= this.winStart && at + n <= this.winStart + this.win.length;
  }

  private parseField(end: number): WireField {
    const tagStart = this.pos;
    const tag = this.varint(end, 'field tag');
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0 || field > 536_870_911) throw this.error(`invalid protobuf field number ${field}`, tagStart);
    switch (wireType) {
      case WireType.Varint: {
        const start = this.pos;
        const value = this.varint(end, `field ${field}`, false);
        return { field, wireType, tagStart, start, end: this.pos, varint: value };
      }
      case WireType.Fixed64:
      case WireType.Fixed32: {
        const n = wireType === WireType.Fixed64 ? 8 : 4;
        if (end - this.pos < n) throw this.error(`field ${field} needs ${n} bytes but its message has ${end - this.pos} left`, this.pos);
        const start = this.pos;
        this.pos += n;
        return { field, wireType, tagStart, start, end: this.pos };
      }
      case WireType.Bytes: {
        const len = this.varint(end, `length of field ${field}`);
        if (len > end - this.pos) {
          throw this.error(`field ${field} declares ${len} bytes but its message has only ${end - this.pos} left`, this.pos);
        }
        const start = this.pos;
        this.pos += len;
        return { field, wireType, tagStart, start, end: this.pos };
      }
      default:
        throw this.error(`unsupported protobuf wire type ${wireType} in field ${field}`, tagStart);
    }
  }

  /**
   * The raw bytes of [start, end), which must be small: they count against the header budget. The
   * result may be a view of the window; windows are never overwritten, only replaced.
   */
  async bytes(start: number, end: number, what: string): Promise<Uint8Array> {
    const hit = this.bytesInWindow(start, end, what);
    if (hit) return hit;
    this.charge(end - start, start, what);
    if (end - start <= MAX_WINDOW) {
      await this.fill(start, end - start);
      return this.win.subarray(start - this.winStart, end - this.winStart);
    }
    return this.file.read(start, end - start, undefined, what);
  }

  /** {@link bytes} without waiting, when the range is already in the window; undefined otherwise. */
  bytesInWindow(start: number, end: number, what: string): Uint8Array | undefined {
    if (!this.inWindow(start, end - start)) return undefined;
    this.charge(end - start, start, what);
    return this.win.subarray(start - this.winStart, end - this.winStart);
  }

  private charge(n: number, at: number, what: string): void {
    this.payloadBytes += n;
    if (this.payloadBytes > this.maxPayloadBytes) {
      throw new FormatError(`the model's headers exceed the ${this.maxPayloadBytes}-byte limit (while reading ${what})`, { format: 'onnx', offset: at });
    }
  }

  /** Makes sure the next `n` bytes are in the window. */
  private async need(n: number): Promise<void> {
    if (this.inWindow(this.pos, n)) return;
    await this.fill(this.pos, n);
  }

  private async fill(at: number, n: number): Promise<void> {
    // Sequential header reads double the window; a jump (a skipped tensor) starts small again, so
    // listing a model with large inline tensors reads little more than its headers.
    this.window = at === this.winStart + this.win.length ? Math.min(this.window * 2, MAX_WINDOW) : MIN_WINDOW;
    const len = Math.min(Math.max(n, this.window), this.file.size - at);
    if (len < n) throw this.error(`the file ends inside a protobuf field`, at);
    this.win = await this.file.read(at, len, undefined, 'ONNX protobuf');
    this.winStart = at;
  }

  /**
   * Decodes a varint from the window. Tags and lengths past 2^53 are refused since no real size is
   * that big; plain values (negative int64s take ten bytes) come back as NaN when not exact.
   */
  private varint(end: number, what: string, strict = true): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const at = this.pos - this.winStart;
      if (this.pos >= end || at >= this.win.length) throw this.error(`${what} runs past the end of its message`, this.pos);
      const b = this.win[at];
      this.pos++;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (Number.isSafeInteger(value)) return value;
        if (strict) throw this.error(`${what} is too large (${value})`, this.pos);
        return Number.NaN;
      }
      scale *= 128;
    }
    throw this.error(`${what} is not a valid varint`, this.pos);
  }

  private error(message: string, offset: number): FormatError {
    return new FormatError(`${message} at byte ${offset} of ${this.file.path}`, { format: 'onnx', offset });
  }
}
