/**
 * Protocol-buffer framing for output that is assembled from parts: a message's small fields are
 * encoded by protobufjs, while large payloads (tensor bytes) are appended as separate pieces, so a
 * multi-GB model is never copied into one contiguous buffer.
 */

/** Bytes to read only when they are written (tensor data from an external file). */
export interface LazyPiece {
  readonly size: number;
  readonly read: () => Uint8Array;
}

/** One part of an output file: bytes in memory, or bytes read on demand. */
export type Piece = Uint8Array | LazyPiece;

/** The byte length of a piece. */
export function pieceSize(p: Piece): number {
  return p instanceof Uint8Array ? p.length : p.size;
}

/** The summed byte length of pieces. */
export function piecesSize(pieces: readonly Piece[]): number {
  let n = 0;
  for (const p of pieces) n += pieceSize(p);
  return n;
}

/** Yields the bytes of each piece in order, reading lazy pieces one at a time. */
export function* materialize(pieces: readonly Piece[]): Generator<Uint8Array> {
  for (const p of pieces) {
    if (p instanceof Uint8Array) {
      if (p.length) yield p;
      continue;
    }
    const bytes = p.read();
    if (bytes.length !== p.size) throw new Error(`a tensor read gave ${bytes.length} bytes instead of ${p.size}`);
    if (bytes.length) yield bytes;
  }
}

/** Concatenates pieces into one buffer (for models handed to a runtime from memory). */
export function concatPieces(pieces: readonly Piece[]): Uint8Array {
  const out = new Uint8Array(piecesSize(pieces));
  let at = 0;
  for (const b of materialize(pieces)) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** A base-128 varint for a non-negative integer up to 2⁵³ (arithmetic, since bit operators stop at 32 bits). */
export function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a varint`);
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

/** The key of a length-delimited field followed by its length: the frame of an embedded message or bytes. */
export function lengthDelimitedHeader(field: number, length: number): Uint8Array {
  const key = varint(field * 8 + 2);
  const len = varint(length);
  const out = new Uint8Array(key.length + len.length);
  out.set(key);
  out.set(len, key.length);
  return out;
}
