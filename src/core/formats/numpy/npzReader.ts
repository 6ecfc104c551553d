import { FormatError, isFormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import { ZipArchive, type ZipEntry } from '../../io/ZipArchive';
import type { Checkpoint, TensorInfo } from '../Checkpoint';
import type { FormatReader, OpenLimits } from '../FormatReader';
import { npyPrefix, parseNpyHeader, readNpyHeader, type NpyHeader } from './npyHeader';
import { npyTensor } from './npyReader';

/** Bytes inflated to find a deflated member's header length. */
const PREFIX_BYTES = 12;

async function collect(chunks: AsyncIterable<Uint8Array>, total: number): Promise<Uint8Array> {
  const out = new Uint8Array(total);
  let at = 0;
  for await (const c of chunks) {
    const n = Math.min(c.byteLength, total - at);
    out.set(c.subarray(0, n), at);
    at += n;
  }
  if (at !== total) throw new FormatError(`member ended after ${at} of ${total} bytes`, { format: 'numpy' });
  return out;
}

async function memberHeader(zip: ZipArchive, file: FileAccessor, e: ZipEntry, limits: OpenLimits): Promise<NpyHeader> {
  if (e.method === 'stored') return readNpyHeader(file, e.dataOffset, Math.min(e.uncompressedSize, e.compressedSize), limits);
  const size = e.uncompressedSize;
  if (size < 10) throw new FormatError('the .npy header is truncated', { format: 'numpy' });
  const first = await collect(zip.stream(e, 0, Math.min(PREFIX_BYTES, size)), Math.min(PREFIX_BYTES, size));
  const { prefix, headerBytes, major } = npyPrefix(first);
  if (prefix + headerBytes > size) throw new FormatError(`header declares ${headerBytes} bytes but the member has only ${size}`, { format: 'numpy' });
  if (headerBytes > limits.maxHeaderBytes) throw new FormatError(`header declares ${headerBytes} bytes, more than the limit`, { format: 'numpy' });
  const bytes = await collect(zip.stream(e, 0, prefix + headerBytes), prefix + headerBytes);
  return parseNpyHeader(bytes, prefix, headerBytes, major, size);
}

async function openNpz(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
  const zip = await ZipArchive.open(file, limits);
  try {
    const tensors: TensorInfo[] = [];
    for (const e of zip.entries) {
      if (!e.name.endsWith('.npy')) continue;
      let h: NpyHeader;
      try {
        h = await memberHeader(zip, file, e, limits);
      } catch (err) {
        if (isFormatError(err)) throw new FormatError(`array ${e.name}: ${err.message}`, { format: 'numpy', cause: err });
        throw err;
      }
      const length = h.elements * h.itemSize;
      const source = e.method === 'stored'
        ? { kind: 'file' as const, path: file.path, offset: e.dataOffset + h.dataOffset, length }
        : { kind: 'zip' as const, path: file.path, member: e.name, offset: h.dataOffset, length };
      if (source.kind === 'file') file.checkRange(source.offset, length, `array ${e.name}`);
      tensors.push(npyTensor(e.name.slice(0, -4), h, source));
    }
    const compressed = zip.entries.some((e) => e.method === 'deflate');
    return { format: 'numpy', path: file.path, fileSize: file.size, metadata: { archive: 'npz', compressed }, tensors };
  } finally {
    zip.close();
  }
}

/**
 * An .npz archive: a zip whose first member is an .npy array. Stored members are read in place;
 * deflated ones are inflated on demand.
 */
export const npzReader: FormatReader = {
  name: 'numpy',
  sniff(head) {
    // Local file header: "PK\3\4", name length at 26, extra length at 28, name at 30.
    if (head.byteLength < 30 || head[0] !== 0x50 || head[1] !== 0x4b || head[2] !== 3 || head[3] !== 4) return false;
    const n = head[26] | (head[27] << 8);
    if (30 + n > head.byteLength) return false;
    const name = new TextDecoder('utf-8').decode(head.subarray(30, 30 + n));
    return name.endsWith('.npy');
  },
  open: openNpz,
};
