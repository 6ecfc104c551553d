import { Readable } from 'node:stream';
import { createInflateRaw, inflateRaw } from 'node:zlib';
import * as yauzl from 'yauzl';
import { FormatError, isFormatError } from '../FormatError';
import { DEFAULT_LIMITS, type OpenLimits } from './OpenLimits';
import type { FileAccessor } from './FileAccessor';

/** One member of a zip archive, with the absolute position of its (possibly compressed) bytes. */
export interface ZipEntry {
  readonly name: string;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly method: 'stored' | 'deflate';
  /** Absolute file offset of the member's data, just past its local file header. */
  readonly dataOffset: number;
}

/** Smallest central directory record: a lying entry count is checked against this before listing. */
const CENTRAL_RECORD_BYTES = 46;
/** Bytes read per step when streaming a member. */
const CHUNK_BYTES = 1 << 20;
/** Local headers read concurrently while listing, so a 10,000-member archive lists quickly. */
const HEADER_BATCH = 64;

/**
 * yauzl's reader interface over our {@link FileAccessor}: every read goes through the accessor, so
 * it is positioned, bounds-checked and counted in `bytesRead`.
 */
class AccessorReader extends yauzl.RandomAccessReader {
  constructor(private readonly file: FileAccessor) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    this.file.read(position, length, buffer.subarray(offset, offset + length), 'zip record').then(
      () => callback(null, length),
      (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(readChunks(this.file, start, end));
  }
}

async function* readChunks(file: FileAccessor, start: number, end: number): AsyncGenerator<Uint8Array> {
  for (let pos = start; pos < end; pos += CHUNK_BYTES) {
    const n = Math.min(CHUNK_BYTES, end - pos);
    // A fresh buffer per chunk: consumers (zlib, callers of stream()) may keep a reference.
    yield await file.read(pos, n, undefined, 'zip member data');
  }
}

/** Turns yauzl's technical messages into ones a user understands. */
function translate(e: unknown, path: string, member?: string): FormatError {
  const msg = e instanceof Error ? e.message : String(e);
  const where = member === undefined ? path : `member ${member} of ${path}`;
  let text: string;
  if (/End of central directory record signature not found/i.test(msg)) {
    text = `${path} is not a zip file (no end-of-central-directory record; it may be truncated)`;
  } else if (/invalid central directory file header signature|unexpected EOF|extra field length exceeds/i.test(msg)) {
    text = `truncated or corrupt central directory in ${path}: ${msg}`;
  } else if (/invalid local file header signature/i.test(msg)) {
    text = `bad local header for ${where}: ${msg}`;
  } else if (/file data overflows file bounds/i.test(msg)) {
    text = `the data of ${where} runs past the end of the file (${msg})`;
  } else if (/zip64/i.test(msg)) {
    text = `corrupt zip64 records in ${path}: ${msg}`;
  } else if (/invalid comment length/i.test(msg)) {
    text = `${path} has extra bytes after its zip directory or a corrupt comment length`;
  } else if (isFormatError(e)) {
    text = `truncated or corrupt zip ${where}: ${msg}`;
  } else {
    text = `corrupt zip ${where}: ${msg}`;
  }
  return new FormatError(text, { format: 'zip', cause: e });
}

/**
 * A zip archive (zip64 included) read through a {@link FileAccessor}. Listing reads the central
 * directory and each member's local header only; member data is read on demand, whole for small
 * members ({@link read}) or as a stream of chunks ({@link stream}).
 */
export class ZipArchive {
  private readonly byName: Map<string, ZipEntry>;

  private constructor(
    private readonly file: FileAccessor,
    private readonly zip: yauzl.ZipFile,
    /** Members in central directory order. */
    readonly entries: readonly ZipEntry[],
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /** Lists the archive. Throws {@link FormatError} for anything that is not a well-formed zip. */
  static async open(file: FileAccessor, limits: OpenLimits = DEFAULT_LIMITS): Promise<ZipArchive> {
    const reader = new AccessorReader(file);
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.fromRandomAccessReaderPromise(reader, file.size, {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: true,
        validateEntrySizes: true,
        strictFileNames: false,
      });
    } catch (e) {
      throw translate(e, file.path);
    }
    try {
      const count = zip.entryCount;
      if (!Number.isSafeInteger(count) || count < 0) throw new FormatError(`${file.path} declares an impossible number of zip members`, { format: 'zip' });
      if (count > limits.maxEntries) {
        throw new FormatError(`${file.path} declares ${count} zip members, more than the limit of ${limits.maxEntries}`, { format: 'zip' });
      }
      if (count * CENTRAL_RECORD_BYTES > file.size) {
        throw new FormatError(`${file.path} declares ${count} zip members but the whole file has only ${file.size} bytes`, { format: 'zip' });
      }
      const raw: yauzl.Entry[] = [];
      for await (const entry of zip.eachEntry()) raw.push(entry);
      const entries: ZipEntry[] = [];
      for (let i = 0; i < raw.length; i += HEADER_BATCH) {
        entries.push(...(await Promise.all(raw.slice(i, i + HEADER_BATCH).map((r) => ZipArchive.locate(zip, r, file.path)))));
      }
      return new ZipArchive(file, zip, entries);
    } catch (e) {
      zip.close();
      throw isFormatError(e) && e.format === 'zip' ? e : translate(e, file.path);
    }
  }

  private static async locate(zip: yauzl.ZipFile, r: yauzl.Entry, path: string): Promise<ZipEntry> {
    if (r.isEncrypted()) throw new FormatError(`member ${r.fileName} of ${path} is encrypted, which is not supported`, { format: 'zip' });
    if (r.compressionMethod !== 0 && r.compressionMethod !== 8) {
      throw new FormatError(`member ${r.fileName} of ${path} uses unsupported compression method ${r.compressionMethod}`, { format: 'zip' });
    }
    let header: { fileDataStart: number };
    try {
      header = await zip.readLocalFileHeaderPromise(r, { minimal: true });
    } catch (e) {
      throw translate(e, path, r.fileName);
    }
    return {
      name: r.fileName,
      compressedSize: r.compressedSize,
      uncompressedSize: r.uncompressedSize,
      method: r.compressionMethod === 0 ? 'stored' : 'deflate',
      dataOffset: header.fileDataStart,
    };
  }

  /** The member called `name`, if any. */
  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * The whole member, inflated if needed. Refuses members larger than `maxBytes` before reading,
   * and reports corrupt compressed data as a {@link FormatError}.
   */
  async read(entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
    if (entry.uncompressedSize > maxBytes) {
      throw new FormatError(`member ${entry.name} holds ${entry.uncompressedSize} bytes, more than the ${maxBytes} allowed for it`, { format: 'zip' });
    }
    this.file.checkRange(entry.dataOffset, entry.compressedSize, `member ${entry.name}`);
    const packed = await this.file.read(entry.dataOffset, entry.compressedSize, undefined, `member ${entry.name}`);
    if (entry.method === 'stored') return packed;
    const out = await new Promise<Buffer>((resolve, reject) => {
      inflateRaw(packed, { maxOutputLength: Math.max(1, entry.uncompressedSize) }, (err, res) => (err ? reject(err) : resolve(res)));
    }).catch((e: unknown) => {
      throw new FormatError(`member ${entry.name} has corrupt compressed data (${e instanceof Error ? e.message : String(e)})`, { format: 'zip', cause: e });
    });
    if (out.length !== entry.uncompressedSize) {
      throw new FormatError(`member ${entry.name} inflates to ${out.length} bytes but its header says ${entry.uncompressedSize}`, { format: 'zip' });
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  /** The member's uncompressed bytes in [start, end), as chunks; deflated members are inflated on the fly. */
  async *stream(entry: ZipEntry, start = 0, end = entry.uncompressedSize): AsyncIterable<Uint8Array> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > entry.uncompressedSize) {
      throw new FormatError(`range ${start}..${end} lies outside member ${entry.name} (${entry.uncompressedSize} bytes)`, { format: 'zip' });
    }
    this.file.checkRange(entry.dataOffset, entry.compressedSize, `member ${entry.name}`);
    if (start === end) return;
    if (entry.method === 'stored') {
      yield* readChunks(this.file, entry.dataOffset + start, entry.dataOffset + end);
      return;
    }
    yield* this.inflateRange(entry, start, end);
  }

  private async *inflateRange(entry: ZipEntry, start: number, end: number): AsyncGenerator<Uint8Array> {
    const source = Readable.from(readChunks(this.file, entry.dataOffset, entry.dataOffset + entry.compressedSize));
    const inflate = createInflateRaw();
    source.on('error', (e) => inflate.destroy(e));
    source.pipe(inflate);
    let pos = 0; // uncompressed position of the next chunk
    try {
      for await (const chunk of inflate as AsyncIterable<Buffer>) {
        const from = Math.max(0, start - pos);
        const to = Math.min(chunk.length, end - pos);
        pos += chunk.length;
        if (to > from) yield new Uint8Array(chunk.buffer, chunk.byteOffset + from, to - from);
        if (pos >= end) return;
        if (pos > entry.uncompressedSize) break;
      }
    } catch (e) {
      if (isFormatError(e)) throw e;
      throw new FormatError(`member ${entry.name} has corrupt compressed data (${e instanceof Error ? e.message : String(e)})`, { format: 'zip', cause: e });
    } finally {
      source.unpipe(inflate);
      source.destroy();
      inflate.destroy();
    }
    throw new FormatError(`member ${entry.name} inflates to ${pos} bytes but its header says ${entry.uncompressedSize}`, { format: 'zip' });
  }

  /** Releases the archive; the underlying accessor stays open for its owner to close. */
  close(): void {
    this.zip.close();
  }
}
