import { stat } from 'node:fs/promises';
import { FormatError } from '../FormatError';
import type { TensorSource } from './TensorInfo';
import { FileAccessor } from '../io/FileAccessor';
import { ZipArchive } from '../io/ZipArchive';

/** A few recently opened zip archives, so reading every member of an npz lists its directory once. */
const ARCHIVE_CACHE_SIZE = 4;
const archives = new Map<string, Promise<ZipArchive>>();

async function archiveFor(path: string): Promise<ZipArchive> {
  // Keyed by size and mtime too, so a rewritten file is listed afresh.
  const s = await stat(path).catch(() => undefined);
  const key = `${path}\0${s?.size ?? -1}\0${s?.mtimeMs ?? -1}`;
  let a = archives.get(key);
  if (a) {
    archives.delete(key);
    archives.set(key, a);
    const zip = await a.catch(() => undefined);
    if (zip) return zip;
  }
  a = FileAccessor.open(path).then((f) => ZipArchive.open(f));
  archives.set(key, a);
  a.catch(() => archives.delete(key));
  // Evicted archives are only forgotten, not closed: a read may still be streaming from one, and
  // they hold no descriptors of their own (FileAccessor's pool owns those).
  while (archives.size > ARCHIVE_CACHE_SIZE) archives.delete(archives.keys().next().value as string);
  return a;
}

/**
 * The first `length` bytes of a tensor's source, in pieces of `unit`-multiple sizes of at most
 * `buffer.byteLength` bytes. File and zip reads land in `buffer`, which is reused: each piece is
 * valid only until the next one is requested.
 */
export async function* tensorBytes(source: TensorSource, name: string, length: number, unit: number, buffer: Uint8Array): AsyncGenerator<Uint8Array> {
  const step = buffer.byteLength - (buffer.byteLength % unit);
  if (length === 0) return;
  if (step <= 0) throw new RangeError('read buffer smaller than one unit');
  switch (source.kind) {
    case 'none':
      throw new FormatError(`tensor ${name} has no readable data: ${source.reason}`);
    case 'inline': {
      if (source.bytes.byteLength < length) throw new FormatError(`tensor ${name} needs ${length} bytes but only ${source.bytes.byteLength} are stored`);
      for (let pos = 0; pos < length; pos += step) yield source.bytes.subarray(pos, Math.min(length, pos + step));
      return;
    }
    case 'file': {
      if (source.length < length) throw new FormatError(`tensor ${name} needs ${length} bytes but its data range holds only ${source.length}`);
      const file = await FileAccessor.open(source.path);
      file.checkRange(source.offset, length, `tensor ${name}`);
      for (let pos = 0; pos < length; pos += step) {
        const n = Math.min(step, length - pos);
        yield await file.read(source.offset + pos, n, buffer, `tensor ${name}`);
      }
      return;
    }
    case 'zip': {
      if (source.length < length) throw new FormatError(`tensor ${name} needs ${length} bytes but its data range holds only ${source.length}`);
      const zip = await archiveFor(source.path);
      const entry = zip.entry(source.member);
      if (!entry) throw new FormatError(`tensor ${name}: member ${source.member} is missing from ${source.path}`);
      let fill = 0;
      let total = 0;
      for await (const piece of zip.stream(entry, source.offset, source.offset + length)) {
        let at = 0;
        while (at < piece.byteLength) {
          const n = Math.min(piece.byteLength - at, step - fill);
          buffer.set(piece.subarray(at, at + n), fill);
          fill += n;
          at += n;
          if (fill === step) {
            total += fill;
            yield buffer.subarray(0, fill);
            fill = 0;
          }
        }
      }
      total += fill;
      if (total !== length) throw new FormatError(`tensor ${name}: member ${source.member} ended after ${total} of ${length} bytes`);
      if (fill > 0) yield buffer.subarray(0, fill);
      return;
    }
  }
}
