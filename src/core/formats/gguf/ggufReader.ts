/**
 * GGUF (llama.cpp's checkpoint format), versions 2 and 3: magic, version, tensor and metadata
 * counts, typed key/value metadata, tensor infos, then aligned tensor data.
 */
import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import { ggmlTypeById } from '../../tensor/ggmlBlocks';
import { formatBytes } from '../../tensor/formatBytes';
import type { Checkpoint, MetadataValue, TensorInfo } from '../Checkpoint';
import type { FormatReader, OpenLimits } from '../FormatReader';
import { GgufCursor } from './GgufCursor';
import { GGUF_MIN_BYTES as MIN_BYTES, GGUF_VALUE_TYPE as VT } from './GgufMetadata';

const fail = (message: string, offset?: number): FormatError => new FormatError(message, offset === undefined ? { format: 'gguf' } : { format: 'gguf', offset });

const DEFAULT_ALIGNMENT = 32;
/** ggml tensors have at most this many dimensions. */
const MAX_DIMS = 4;
/** Arrays nested deeper than this are refused rather than recursed into. */
const MAX_ARRAY_DEPTH = 8;


async function readValue(c: GgufCursor, type: number, key: string, limits: OpenLimits, depth: number): Promise<MetadataValue> {
  const fixed = type === VT.STRING || type === VT.ARRAY ? 0 : MIN_BYTES[type];
  if (fixed === undefined) throw fail(`metadata ${key} has unknown value type ${type}`, c.pos);
  if (fixed > 0) {
    await c.fill(fixed, `metadata ${key}`);
    return c.fixed(type);
  }
  if (type === VT.STRING) return c.string(`metadata ${key}`);
  if (depth >= MAX_ARRAY_DEPTH) throw fail(`metadata ${key} nests arrays more than ${MAX_ARRAY_DEPTH} deep`, c.pos);
  await c.fill(4, `metadata ${key}`);
  const inner = c.u32();
  const min = MIN_BYTES[inner];
  if (min === undefined) throw fail(`metadata ${key} is an array of unknown value type ${inner}`, c.pos - 4);
  const n = await c.count(`elements in array ${key}`, min);
  if (n > limits.maxEntries) throw fail(`metadata ${key} declares ${n} array elements, more than the limit of ${limits.maxEntries}`, c.pos - 8);
  const out: MetadataValue[] = new Array<MetadataValue>(n);
  if (inner !== VT.STRING && inner !== VT.ARRAY) {
    await c.fill(n * min, `array ${key}`);
    for (let i = 0; i < n; i++) out[i] = c.fixed(inner);
    return out;
  }
  for (let i = 0; i < n; i++) {
    out[i] = (inner === VT.STRING ? c.bufferedString() : undefined) ?? (await readValue(c, inner, key, limits, depth + 1));
  }
  return out;
}

interface RawInfo {
  readonly name: string;
  readonly dims: number[];
  readonly type: number;
  readonly offset: number;
  readonly at: number;
}

async function readTensorInfo(c: GgufCursor, index: number): Promise<RawInfo> {
  const at = c.pos;
  const name = await c.string(`name of tensor ${index}`);
  await c.fill(4, `tensor ${name}`);
  const nDims = c.u32();
  if (nDims > MAX_DIMS) throw fail(`tensor ${name} declares ${nDims} dimensions; ggml allows at most ${MAX_DIMS}`, at);
  const dims: number[] = [];
  for (let i = 0; i < nDims; i++) dims.push(await c.dim(`elements along dimension ${i} of tensor ${name}`));
  await c.fill(4, `tensor ${name}`);
  const type = c.u32();
  await c.fill(8, `tensor ${name}`);
  const offset = c.u64();
  if (typeof offset !== 'number') throw fail(`tensor ${name} has data offset ${offset}, past any file`, at);
  return { name, dims, type, offset, at };
}

async function openGguf(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
  if (file.size === 0) throw fail('the file is empty');
  if (file.size < 24) throw fail(`the file has only ${file.size} bytes, too short for a GGUF header`);
  const c = new GgufCursor(file, Math.min(file.size, limits.maxHeaderBytes));
  await c.fill(8, 'GGUF header');
  if (c.u32() !== 0x46554747) throw fail('the file does not start with the GGUF magic', 0);
  const version = c.u32();
  if (version === 1) throw fail('GGUF version 1 is not supported: re-export the model with a current llama.cpp (versions 2 and 3 are read)', 4);
  if (version !== 2 && version !== 3) {
    if ((version & 0xffff) === 0 && (version >>> 24 === 2 || version >>> 24 === 3)) throw fail('big-endian GGUF files are not supported', 4);
    throw fail(`unknown GGUF version ${version} (versions 2 and 3 are read)`, 4);
  }
  // Smallest tensor info: empty name (8) + n_dims (4) + type (4) + offset (8); smallest key/value: empty key + type + u8.
  const tensorCount = await c.count('tensors', 24);
  const kvCount = await c.count('metadata entries', 13);
  if (tensorCount > limits.maxEntries) throw fail(`header declares ${tensorCount} tensors, more than the limit of ${limits.maxEntries}`, 8);
  if (kvCount > limits.maxEntries) throw fail(`header declares ${kvCount} metadata entries, more than the limit of ${limits.maxEntries}`, 16);

  const metadata: Record<string, MetadataValue> = { 'GGUF.version': version };
  const keys = new Set<string>();
  for (let i = 0; i < kvCount; i++) {
    const key = await c.string(`metadata key ${i}`);
    if (keys.has(key)) throw fail(`metadata key ${key} appears twice`, c.pos);
    keys.add(key);
    await c.fill(4, `metadata ${key}`);
    const type = c.u32();
    metadata[key] = await readValue(c, type, key, limits, 0);
  }

  let alignment = DEFAULT_ALIGNMENT;
  if (keys.has('general.alignment')) {
    const a = metadata['general.alignment'];
    if (typeof a !== 'number' || a <= 0 || !Number.isInteger(a) || (a & (a - 1)) !== 0) throw fail(`general.alignment is ${typeof a === 'number' ? a : 'not a number'}, not a power of two`);
    alignment = a;
  }

  const raw: RawInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const info = await readTensorInfo(c, i);
    if (names.has(info.name)) throw fail(`tensor ${info.name} appears twice`, info.at);
    names.add(info.name);
    raw.push(info);
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  const dataBytes = Math.max(0, file.size - dataStart);

  const tensors: TensorInfo[] = raw.map((r) => {
    const type = ggmlTypeById(r.type);
    if (!type) throw fail(`tensor ${r.name} has ggml type id ${r.type}, which ggml does not define`, r.at);
    let elements = 1;
    for (const d of r.dims) elements *= d;
    if (!Number.isSafeInteger(elements)) throw fail(`tensor ${r.name} has shape [${r.dims.join(', ')}], too many elements`, r.at);
    if (r.dims.length > 0 && r.dims[0] % type.blockSize !== 0) {
      throw fail(`tensor ${r.name} has ${r.dims[0]} elements per row, not a multiple of the ${type.name} block size ${type.blockSize}`, r.at);
    }
    if (elements % type.blockSize !== 0) throw fail(`tensor ${r.name} has ${elements} elements, not whole ${type.name} blocks`, r.at);
    const byteLength = (elements / type.blockSize) * type.typeSize;
    if (r.offset % alignment !== 0) throw fail(`tensor ${r.name} has data offset ${r.offset}, not a multiple of the alignment ${alignment}`, r.at);
    if (r.offset + byteLength > dataBytes) {
      throw fail(`tensor ${r.name} needs ${formatBytes(byteLength)} at data offset ${r.offset} but the data section has only ${formatBytes(dataBytes)}`, r.at);
    }
    return {
      name: r.name,
      dtype: type.dtype,
      // ggml lists the fastest-varying dimension first; users expect numpy's row-major order.
      shape: [...r.dims].reverse(),
      elements,
      byteLength,
      littleEndian: true,
      source: { kind: 'file' as const, path: file.path, offset: dataStart + r.offset, length: byteLength },
    };
  });
  return { format: 'gguf', path: file.path, fileSize: file.size, metadata, tensors };
}

/** GGUF v2 / v3, recognised by its `GGUF` magic. */
export const ggufReader: FormatReader = {
  name: 'gguf',
  sniff: (head) => head.byteLength >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46,
  open: openGguf,
};
