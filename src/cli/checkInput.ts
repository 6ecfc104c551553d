import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { openDecoderSource } from '../core/decoder';
import { isFormatError } from '../core/FormatError';
import type { FormatName } from '../core/formats/Checkpoint';
import { openCheckpoint, sniffFormat } from '../core/formats/registry';
import { FileAccessor } from '../core/io/FileAccessor';
import { isCheckpointInput } from '../worker/jobs/modelInput';
import { CliError } from './CliError';

/** Every format the readers know; the commands that only read tensors take them all. */
export const ALL_FORMATS: readonly FormatName[] = ['onnx', 'safetensors', 'gguf', 'pytorch', 'numpy'];

/** Formats in the words a user knows them by. */
const FORMAT_WORDS: Readonly<Record<FormatName, string>> = {
  onnx: 'an ONNX model',
  safetensors: 'a safetensors checkpoint',
  gguf: 'a GGUF file',
  pytorch: 'a PyTorch checkpoint',
  numpy: 'a NumPy array file',
};

const FORMAT_NAMES: Readonly<Record<FormatName, string>> = { onnx: 'ONNX', safetensors: 'safetensors', gguf: 'GGUF', pytorch: 'PyTorch', numpy: 'NumPy' };

/** What the commands that run a graph read: ONNX, or a checkpoint they build one from. */
const GRAPH_INPUTS = 'ONNX models and language-model checkpoints (a Hugging Face folder, its model.safetensors or index, a .gguf)';

/** `ONNX models`, `ONNX, safetensors or GGUF files`. */
function readsWhat(formats: readonly FormatName[]): string {
  if (formats.length === 1 && formats[0] === 'onnx') return GRAPH_INPUTS;
  const names = formats.map((f) => FORMAT_NAMES[f]);
  return `${names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0]} files`;
}

/** A file the user named exists and is a file (a folder is refused unless `folders`). */
export async function checkFile(path: string, options: { readonly folders?: boolean } = {}): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(`no such file: ${path}`, 'no-such-file', { path });
    throw new CliError(`cannot read ${path}: ${code ?? String(e)}`, 'unreadable', { path });
  }
  if (s.isDirectory() && !options.folders) throw new CliError(`${path} is a folder`, 'is-folder', { path });
}

/**
 * Checks the model file a command reads before any work: it exists, is no folder, and is one of
 * the formats the command reads (`reads`). Returns the format. A file no reader recognises gets
 * the readers' own explanation, the same one `inspect` gives, so a truncated `.onnx` says where.
 */
export async function checkInput(path: string, command: string, reads: readonly FormatName[]): Promise<FormatName> {
  await checkFile(path);
  const file = await FileAccessor.open(path);
  const reader = file.size === 0 ? undefined : await sniffFormat(file);
  if (reader && !reads.includes(reader.name)) return refuse(path, command, reads, reader.name);
  // The commands that read every format open the file with these readers themselves. The others
  // load models their own way, so the readers look first: they explain a broken file best
  // (empty, truncated, not a checkpoint at all), and they read only headers.
  if (reader && reads.length === ALL_FORMATS.length) return reader.name;
  const checkpoint = await openCheckpoint(path);
  if (!reads.includes(checkpoint.format)) return refuse(path, command, reads, checkpoint.format);
  return checkpoint.format;
}

function refuse(path: string, command: string, reads: readonly FormatName[], format: FormatName, why?: string): never {
  const what = why === undefined ? FORMAT_WORDS[format] : `${FORMAT_WORDS[format]}, not a language model Quantscope can build (${why})`;
  throw new CliError(`${path}: this is ${what}; ${command} reads ${readsWhat(reads)}`, 'wrong-format', { path, format });
}

/**
 * True when `path` is a language-model checkpoint the engine can build a graph from; false when
 * it is some other file (an ONNX model, a NumPy array, a checkpoint with no decoder in it), for
 * {@link checkGraphInput} to judge. A folder, a `.json`, or weights with a `config.json` or
 * `params.json` beside them are meant as one, so there the engine's own message is the error:
 * no config.json, a missing shard, a tensor whose shape disagrees with the config.
 */
export async function isDecoderInput(path: string): Promise<boolean> {
  await checkFile(path, { folders: true });
  if (!(await isCheckpointInput(path))) return false;
  try {
    await openDecoderSource(path);
    return true;
  } catch (e) {
    if (!isFormatError(e)) throw e;
    const folder = (await stat(path)).isDirectory();
    const meant = folder || /\.json$/i.test(path) || existsSync(join(dirname(path), 'config.json')) || existsSync(join(dirname(path), 'params.json'));
    if (meant) throw new CliError(e.message, 'unreadable', { path });
    return false;
  }
}

/**
 * Checks the model of a command that runs a graph (quantize, prune, profile's calibration,
 * bench): an ONNX model, or a language-model checkpoint that is built into one. Anything else is
 * refused with what it is and, for a checkpoint, why no decoder could be built from it.
 */
export async function checkGraphInput(path: string, command: string): Promise<'onnx' | 'decoder'> {
  if (await isDecoderInput(path)) return 'decoder';
  await checkFile(path);
  const file = await FileAccessor.open(path);
  const reader = file.size === 0 ? undefined : await sniffFormat(file);
  if (reader && reader.name !== 'onnx') {
    const why = await openDecoderSource(path).then(() => undefined, (e: unknown) => (isFormatError(e) ? e.message : undefined));
    return refuse(path, command, ['onnx'], reader.name, reader.name === 'numpy' ? undefined : why);
  }
  await checkInput(path, command, ['onnx']);
  return 'onnx';
}

/** `a safetensors checkpoint`, for messages. */
export function formatWords(format: FormatName): string {
  return FORMAT_WORDS[format];
}
