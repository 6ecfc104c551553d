/**
 * Picks the reader for a file by its content and opens it. Each reader sniffs the first bytes;
 * formats with strong magic numbers are asked first, and ONNX, which has none, last.
 */
import { MODEL_FILES, type ClaimedReader } from './modelFiles';
import { basename, extname } from 'node:path';
import { FormatError, isFormatError } from '../FormatError';
import { FileAccessor } from '../io/FileAccessor';
import type { Checkpoint } from './Checkpoint';
import { DEFAULT_LIMITS, type FormatReader, type OpenLimits } from './FormatReader';
import { ggufReader } from './gguf/ggufReader';
import { npyReader } from './numpy/npyReader';
import { npzReader } from './numpy/npzReader';
import { onnxReader } from './onnx/onnxReader';
import { pytorchReader } from './pytorch/pytorchReader';
import { safetensorsIndexReader } from './safetensors/safetensorsIndexReader';
import { safetensorsReader } from './safetensors/safetensorsReader';

/** Bytes of the file every sniff sees. */
export const SNIFF_BYTES = 4096;

/** The readers in the order they are asked: strongest magic first. */
export const READERS: readonly FormatReader[] = [
  ggufReader,
  npyReader,
  npzReader,
  pytorchReader,
  safetensorsReader,
  safetensorsIndexReader,
  onnxReader,
];

/**
 * The reader a file's extension suggests. Used only after no reader recognised the content, to
 * explain what is wrong with a file that claims a format (a truncated `.onnx`, say).
 */
const CLAIMED: Readonly<Record<ClaimedReader, FormatReader>> = { onnx: onnxReader, safetensors: safetensorsReader, gguf: ggufReader, npy: npyReader, npz: npzReader, pytorch: pytorchReader };
const READER_BY_EXTENSION: Readonly<Record<string, FormatReader>> = Object.fromEntries(MODEL_FILES.flatMap((f) => (f.claims ? [[f.extension, CLAIMED[f.claims]]] : [])));

/** The first bytes as hex and as text, for an error that tells the user what the file looks like. */
export function describeHead(head: Uint8Array): string {
  const first = head.subarray(0, 16);
  const hex = Array.from(first, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = Array.from(first, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `${hex} "${text}"`;
}

/**
 * The reader that recognises `file`, or undefined. Reads the first {@link SNIFF_BYTES} once
 * (or takes them as `head`) and gives them to each reader's sniff in {@link READERS} order.
 */
export async function sniffFormat(file: FileAccessor, head?: Uint8Array): Promise<FormatReader | undefined> {
  const bytes = head ?? (await file.read(0, Math.min(SNIFF_BYTES, file.size), undefined, 'first bytes'));
  for (const reader of READERS) {
    let match = false;
    try {
      match = await reader.sniff(bytes, file);
    } catch (e) {
      if (!isFormatError(e)) throw e;
    }
    if (match) return reader;
  }
  return undefined;
}

/**
 * Opens a checkpoint of any supported format: lists its metadata and tensors (and graph) by
 * reading only headers and indexes. Every problem with the file, including a file that is no
 * checkpoint at all, is a {@link FormatError} with a message for the user.
 */
export async function openCheckpoint(path: string, limits: OpenLimits = DEFAULT_LIMITS): Promise<Checkpoint> {
  const file = await FileAccessor.open(path);
  const name = basename(path);
  if (file.size === 0) throw new FormatError(`${name}: the file is empty`, { offset: 0 });
  const head = await file.read(0, Math.min(SNIFF_BYTES, file.size), undefined, 'first bytes');
  const reader = await sniffFormat(file, head);
  if (!reader) {
    const claimed = READER_BY_EXTENSION[extname(path).toLowerCase()];
    if (claimed) {
      try {
        // The content did not match, but the user says what it should be: let that reader say why.
        return await claimed.open(file, limits);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new FormatError(`${name} is not a valid ${claimed.name} file: ${why} (it starts with ${describeHead(head)})`, { format: claimed.name, cause: e });
      }
    }
    throw new FormatError(
      `${name} is not a checkpoint format Quantscope reads (ONNX, safetensors, GGUF, PyTorch, NumPy); it starts with ${describeHead(head)}`,
      { offset: 0 },
    );
  }
  try {
    return await reader.open(file, limits);
  } catch (e) {
    if (isFormatError(e)) throw e;
    // A reader bug must still reach the user as a readable error, not a crash of the worker.
    throw new FormatError(`${name}: unexpected error in the ${reader.name} reader: ${e instanceof Error ? e.message : String(e)}`, { format: reader.name, cause: e });
  }
}
