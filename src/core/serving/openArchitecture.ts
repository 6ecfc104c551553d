import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ModelArchitecture } from '../../protocol/servingTypes';
import type { Checkpoint } from '../formats/Checkpoint';
import { FormatError } from '../FormatError';
import { openCheckpoint } from '../formats/registry';
import { readConfigArchitecture } from './readConfigArchitecture';
import { readGgufArchitecture } from './readGgufArchitecture';
import { readOnnxArchitecture } from './readOnnxArchitecture';

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function readConfig(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new FormatError(`${basename(path)} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { format: 'config' });
  }
}

/** A model's architecture, and its opened weights when there are any. */
export interface OpenedModel {
  readonly architecture: ModelArchitecture;
  readonly checkpoint: Checkpoint | undefined;
}

/**
 * Reads the architecture of whatever the user points at: a bare `config.json` (nothing else is
 * read), a model folder or a weights file with a `config.json` beside it (the weights' headers
 * then fill gaps and are counted), a `.gguf` (its metadata), or an `.onnx` decoder (its graph).
 */
export async function openArchitecture(path: string): Promise<ModelArchitecture> {
  return (await openModel(path)).architecture;
}

/** {@link openArchitecture}, keeping the weights' listing for a closer look (the experts). */
export async function openModel(path: string): Promise<OpenedModel> {
  const folder = (await stat(path)).isDirectory();
  if (!folder && basename(path).endsWith('.json') && !basename(path).endsWith('.index.json')) return { architecture: readConfigArchitecture(await readConfig(path), basename(path)), checkpoint: undefined };
  const dir = folder ? path : dirname(path);
  const config = join(dir, 'config.json');
  if (folder) {
    if (!(await isFile(config))) throw new FormatError(`${basename(path)} has no config.json`, { format: 'config' });
    const weights = ['model.safetensors.index.json', 'model.safetensors'].map((n) => join(dir, n));
    const found = [];
    for (const w of weights) if (await isFile(w)) found.push(w);
    const checkpoint = found.length ? await openCheckpoint(found[0]) : undefined;
    return { architecture: readConfigArchitecture(await readConfig(config), 'config.json', checkpoint?.tensors), checkpoint };
  }
  const checkpoint = await openCheckpoint(path);
  if (checkpoint.format === 'gguf') return { architecture: readGgufArchitecture(checkpoint), checkpoint };
  if (checkpoint.format === 'onnx') return { architecture: readOnnxArchitecture(checkpoint), checkpoint };
  if (await isFile(config)) return { architecture: readConfigArchitecture(await readConfig(config), 'config.json', checkpoint.tensors), checkpoint };
  throw new FormatError(`${basename(path)} is a ${checkpoint.format} checkpoint without a config.json beside it, so its architecture is unknown`, { format: checkpoint.format });
}
