import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FormatError, isFormatError } from '../FormatError';
import type { Checkpoint } from '../formats/Checkpoint';
import { openCheckpoint } from '../formats/registry';
import { CheckpointDecoderSource, type DecoderSource } from './DecoderSource';
import type { DecoderConfig } from './DecoderConfig';
import type { TensorNaming } from './decoderTensors';
import { gptqCheckpointInfo } from './gptqPackedWeight';
import { readGgufConfig } from './readGgufConfig';
import { readHfConfig } from './readHfConfig';
import { readMetaParams } from './readMetaParams';

/** Weight files a model folder may hold, in the order they are looked for. */
const WEIGHT_NAMES = ['model.safetensors.index.json', 'model.safetensors', 'consolidated.safetensors', 'consolidated.00.pth'];

const fail = (message: string): FormatError => new FormatError(message, { format: 'decoder' });

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (e) {
    throw fail(`cannot open ${basename(path)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/** The weights file of a model folder: the index, a single safetensors file, or Meta's consolidated file. */
async function findWeights(folder: string): Promise<string> {
  for (const name of WEIGHT_NAMES) if (await exists(join(folder, name))) return join(folder, name);
  const names = await readdir(folder);
  for (const ext of ['.safetensors', '.pth', '.pt']) {
    const found = names.filter((n) => n.endsWith(ext));
    if (found.length === 1) return join(folder, found[0]);
  }
  throw fail(`${basename(folder)} has no model.safetensors, model.safetensors.index.json or other single weights file`);
}

/** The index that lists `path` as a shard, when `path` is one; otherwise `path` itself. */
async function indexOfShard(path: string): Promise<string> {
  const index = join(dirname(path), 'model.safetensors.index.json');
  if (!path.endsWith('.safetensors') || !(await exists(index))) return path;
  const json = await readJson(index);
  const map = typeof json === 'object' && json !== null ? (json as { weight_map?: unknown }).weight_map : undefined;
  const shards = typeof map === 'object' && map !== null ? Object.values(map as Record<string, unknown>) : [];
  return shards.includes(basename(path)) ? index : path;
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((e: unknown) => {
    throw fail(`cannot read ${basename(path)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw fail(`${basename(path)} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function namingOf(checkpoint: Checkpoint): TensorNaming {
  const names = new Set(checkpoint.tensors.map((t) => t.name));
  if (names.has('model.embed_tokens.weight')) return 'hf';
  if (names.has('tok_embeddings.weight')) return 'meta';
  throw fail(`${basename(checkpoint.path)} has neither model.embed_tokens.weight (Hugging Face names) nor tok_embeddings.weight (Meta names); it is not a Llama-family decoder`);
}

function tensorFiles(checkpoint: Checkpoint): string[] {
  const files = new Set<string>();
  for (const t of checkpoint.tensors) if (t.source.kind === 'file' || t.source.kind === 'zip') files.add(t.source.path);
  return [...files].sort();
}

async function openGgufSource(path: string, checkpoint: Checkpoint): Promise<DecoderSource> {
  const config = await readGgufConfig(checkpoint);
  return new CheckpointDecoderSource(path, [path], checkpoint, 'gguf', config, `${basename(path)} metadata`);
}

async function isGguf(path: string): Promise<boolean> {
  if (path.toLowerCase().endsWith('.gguf')) return true;
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && String.fromCharCode(...head) === 'GGUF';
  } finally {
    await fh.close();
  }
}

/**
 * Opens a Llama-family decoder for building: a Hugging Face folder (or its `config.json`,
 * `model.safetensors`, or `model.safetensors.index.json`), Meta-named weights with
 * `params.json` or `config.json` beside them, a `.gguf` with `llama.*` (or `qwen2.*`) metadata,
 * or a folder holding only one `.gguf`. The config is validated and every tensor's shape
 * checked against it; values are read later. Every problem is a {@link FormatError} that names
 * the file, the field or the tensor.
 */
export async function openDecoderSource(path: string): Promise<DecoderSource> {
  let folder: string;
  let weights: string | undefined;
  if (await isDirectory(path)) {
    folder = path;
  } else {
    if (await isGguf(path)) return openGgufSource(path, await openCheckpoint(path));
    folder = dirname(path);
    const name = basename(path);
    if (name !== 'config.json' && name !== 'params.json') weights = path;
  }
  const hfConfig = join(folder, 'config.json');
  const metaParams = join(folder, 'params.json');
  const configPath = (await exists(hfConfig)) ? hfConfig : (await exists(metaParams)) ? metaParams : undefined;
  if (configPath === undefined) {
    // A folder holding just a GGUF file: the file carries its own architecture.
    const ggufs = weights === undefined ? (await readdir(folder)).filter((n) => n.toLowerCase().endsWith('.gguf')) : [];
    if (ggufs.length === 1) return openGgufSource(join(folder, ggufs[0]), await openCheckpoint(join(folder, ggufs[0])));
    throw fail(`${basename(folder)} has no config.json (or Meta's params.json), so the model's architecture is unknown`);
  }
  const json = await readJson(configPath);
  // Read the config before the weights, so an unsupported model_type is named as such.
  const hf: DecoderConfig | undefined = configPath === hfConfig ? readHfConfig(json, 'config.json') : undefined;
  weights = weights === undefined ? await findWeights(folder) : await indexOfShard(weights);
  let checkpoint: Checkpoint;
  try {
    checkpoint = await openCheckpoint(weights);
  } catch (e) {
    if (isFormatError(e)) throw new FormatError(`${basename(weights)}: ${e.message}`, { format: e.format, cause: e });
    throw e;
  }
  const naming = namingOf(checkpoint);
  const embedding = checkpoint.tensors.find((t) => t.name === (naming === 'hf' ? 'model.embed_tokens.weight' : 'tok_embeddings.weight'));
  const config = hf ?? readMetaParams(json, 'params.json', embedding?.shape[0]);
  const gptq = configPath === hfConfig ? gptqCheckpointInfo(json) : undefined;
  return new CheckpointDecoderSource(path, [configPath, ...new Set([weights, ...tensorFiles(checkpoint)])], checkpoint, naming, config, basename(configPath), gptq);
}
