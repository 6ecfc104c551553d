import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import { dtypeBytes, type DType } from '../../tensor/DType';
import { formatBytes, formatCount } from '../../tensor/formatBytes';
import type { Checkpoint, MetadataValue, TensorInfo } from '../Checkpoint';
import type { OpenLimits } from '../FormatReader';

/** The dtypes the safetensors specification defines (and the unsigned ones newer writers use). */
const SAFETENSORS_DTYPES = new Set<string>(['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2']);

const fail = (message: string, offset?: number): FormatError => new FormatError(message, offset === undefined ? { format: 'safetensors' } : { format: 'safetensors', offset });

/** Reads the 8-byte little-endian header length, or undefined when the file is too short. */
export function headerLength(head: Uint8Array): number | undefined {
  if (head.byteLength < 8) return undefined;
  const v = new DataView(head.buffer, head.byteOffset, 8);
  return v.getUint32(4, true) * 4294967296 + v.getUint32(0, true);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

interface Entry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly elements: number;
  readonly begin: number;
  readonly end: number;
}

function parseEntry(name: string, v: unknown): Entry {
  if (!isRecord(v)) throw fail(`header entry ${JSON.stringify(name)} is not an object`);
  const { dtype, shape, data_offsets: offsets } = v;
  if (typeof dtype !== 'string') throw fail(`tensor ${name} has no dtype`);
  if (!SAFETENSORS_DTYPES.has(dtype)) throw fail(`tensor ${name} has dtype ${JSON.stringify(dtype.slice(0, 40))}, which safetensors does not define`);
  // A key bit-flipped out of its name reads as missing: say so rather than print `undefined`.
  if (shape === undefined) throw fail(`tensor ${name} has no shape`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw fail(`tensor ${name} has an invalid shape ${JSON.stringify(shape).slice(0, 80)}`);
  if (offsets === undefined) throw fail(`tensor ${name} has no data_offsets`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isCount(offsets[0]) || !isCount(offsets[1])) {
    throw fail(`tensor ${name} has invalid data_offsets ${JSON.stringify(offsets).slice(0, 80)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw fail(`tensor ${name} has data_offsets [${begin}, ${end}] that end before they begin`);
  let elements = 1;
  for (const d of shape) elements *= d;
  const bytes = elements * (dtypeBytes(dtype as DType) ?? 0);
  if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
    throw fail(`tensor ${name} has shape [${shape.join(', ')}] of ${dtype} (${formatCount(bytes)} bytes) but data_offsets [${begin}, ${end}] hold ${end - begin} bytes`);
  }
  return { name, dtype: dtype as DType, shape, elements, begin, end };
}

/**
 * Lists one .safetensors file: 8-byte header length, JSON header, then the tensor bytes. The
 * header is checked the way the reference implementation does: every range inside the data
 * area, ranges contiguous and non-overlapping, covering the data area exactly, and each range the
 * size its shape and dtype imply.
 */
export async function openSafetensorsFile(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
  if (file.size < 8) throw fail(file.size === 0 ? 'the file is empty' : `the file has only ${file.size} bytes, too short for a safetensors header`);
  const n = headerLength(await file.read(0, 8, undefined, 'header length')) ?? 0;
  if (n > file.size - 8) throw fail(`header declares ${formatBytes(n)} of JSON but the file has ${formatBytes(file.size - 8)} left`, 0);
  if (n > limits.maxHeaderBytes) throw fail(`header declares ${formatBytes(n)} of JSON, more than the limit of ${formatBytes(limits.maxHeaderBytes)}`, 0);
  if (n < 2) throw fail(`header declares only ${n} bytes of JSON`, 0);
  const raw = await file.read(8, n, undefined, 'JSON header');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw fail('the JSON header is not valid UTF-8', 8);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`the JSON header does not parse: ${e instanceof Error ? e.message : String(e)}`, 8);
  }
  if (!isRecord(header)) throw fail('the JSON header is not an object', 8);
  const keys = Object.keys(header);
  if (keys.length > limits.maxEntries) throw fail(`header declares ${keys.length} tensors, more than the limit of ${limits.maxEntries}`);

  const metadata: Record<string, MetadataValue> = {};
  const entries: Entry[] = [];
  for (const key of keys) {
    const v = header[key];
    if (key === '__metadata__') {
      if (!isRecord(v)) throw fail('__metadata__ is not an object of strings');
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') throw fail(`__metadata__ value ${JSON.stringify(k)} is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    entries.push(parseEntry(key, v));
  }

  const dataStart = 8 + n;
  const dataBytes = file.size - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) {
      throw fail(e.begin < expected
        ? `tensor ${e.name} at data_offsets [${e.begin}, ${e.end}] overlaps the tensor before it, which ends at ${expected}`
        : `tensor ${e.name} starts at data offset ${e.begin}, leaving a gap after offset ${expected}`, dataStart + e.begin);
    }
    if (e.end > dataBytes) throw fail(`tensor ${e.name} ends at data offset ${e.end} but the file has only ${formatBytes(dataBytes)} of data`, dataStart + e.begin);
    expected = e.end;
  }
  if (expected !== dataBytes) throw fail(`the tensors cover ${expected} bytes of data but the file has ${dataBytes} after the header`, dataStart + expected);

  const tensors: TensorInfo[] = entries.map((e) => ({
    name: e.name,
    dtype: e.dtype,
    shape: e.shape,
    elements: e.elements,
    byteLength: e.end - e.begin,
    littleEndian: true,
    source: { kind: 'file', path: file.path, offset: dataStart + e.begin, length: e.end - e.begin },
  }));
  return { format: 'safetensors', path: file.path, fileSize: file.size, metadata, tensors };
}
