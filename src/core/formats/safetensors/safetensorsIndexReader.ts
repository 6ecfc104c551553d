import { basename, dirname, join } from 'node:path';
import { FormatError, isFormatError } from '../../FormatError';
import { FileAccessor } from '../../io/FileAccessor';
import { formatBytes } from '../../tensor/formatBytes';
import type { Checkpoint, MetadataValue, TensorInfo } from '../Checkpoint';
import type { FormatReader, OpenLimits } from '../FormatReader';
import { openSafetensorsFile } from './safetensorsHeader';

const fail = (message: string): FormatError => new FormatError(message, { format: 'safetensors' });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON values as metadata: JSON is already a subset of what metadata can hold. */
function jsonToMetadata(v: unknown): MetadataValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(jsonToMetadata);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonToMetadata(x)]));
  return null;
}

/** A shard name must be a plain file name next to the index: an index may not point anywhere else. */
function checkShardName(name: string): void {
  if (name === '' || name !== basename(name) || name.includes('/') || name.includes('\\') || name === '.' || name === '..') {
    throw fail(`weight_map names shard ${JSON.stringify(name.slice(0, 200))}, which is not a file name in the index's folder`);
  }
}

/**
 * Opens a sharded checkpoint through its index (`model.safetensors.index.json`): every shard the
 * `weight_map` names is opened and validated, and their tensors are listed as one model.
 */
export async function openSafetensorsIndex(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
  if (file.size === 0) throw fail('the file is empty');
  if (file.size > limits.maxHeaderBytes) throw fail(`the index is ${formatBytes(file.size)}, more than the limit of ${formatBytes(limits.maxHeaderBytes)}`);
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await file.read(0, file.size, undefined, 'index')));
  } catch (e) {
    if (isFormatError(e)) throw e;
    throw fail(`the index is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isRecord(index) || !isRecord(index.weight_map)) throw fail('the index has no weight_map object');
  const weightMap = index.weight_map;
  const names = Object.keys(weightMap);
  if (names.length > limits.maxEntries) throw fail(`weight_map lists ${names.length} tensors, more than the limit of ${limits.maxEntries}`);

  const byShard = new Map<string, string[]>();
  for (const name of names) {
    const shard = weightMap[name];
    if (typeof shard !== 'string') throw fail(`weight_map entry ${JSON.stringify(name)} is not a file name`);
    checkShardName(shard);
    let list = byShard.get(shard);
    if (!list) byShard.set(shard, (list = []));
    list.push(name);
  }

  const folder = dirname(file.path);
  const tensors: TensorInfo[] = [];
  const seen = new Set<string>();
  let fileSize = file.size;
  for (const [shard, expected] of byShard) {
    let part: Checkpoint;
    const shardFile = await FileAccessor.open(join(folder, shard)).catch((e: unknown) => {
      throw fail(`shard ${shard} named in the index cannot be opened (${e instanceof Error ? e.message : String(e)})`);
    });
    try {
      part = await openSafetensorsFile(shardFile, limits);
    } catch (e) {
      if (isFormatError(e)) throw new FormatError(`shard ${shard}: ${e.message}`, { format: 'safetensors', cause: e });
      throw e;
    }
    fileSize += shardFile.size;
    const have = new Set(part.tensors.map((t) => t.name));
    const missing = expected.find((n) => !have.has(n));
    if (missing !== undefined) throw fail(`weight_map puts tensor ${missing} in shard ${shard}, which does not contain it`);
    for (const t of part.tensors) {
      if (seen.has(t.name)) throw fail(`tensor ${t.name} appears in more than one shard`);
      seen.add(t.name);
      tensors.push(t);
    }
  }

  const metadata: Record<string, MetadataValue> = {};
  if (isRecord(index.metadata)) {
    for (const [k, v] of Object.entries(index.metadata)) metadata[k] = jsonToMetadata(v);
  }
  metadata.shards = byShard.size;
  return { format: 'safetensors', path: file.path, fileSize, metadata, tensors };
}

function looksLikeIndex(head: Uint8Array): boolean {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // UTF-8 byte order mark
  while (i < head.byteLength && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (head[i] !== 0x7b) return false;
  const text = new TextDecoder('utf-8').decode(head);
  return text.includes('"weight_map"') && text.includes('.safetensors"');
}

/** The index of a sharded safetensors checkpoint: a JSON object whose weight_map points at .safetensors files. */
export const safetensorsIndexReader: FormatReader = {
  name: 'safetensors',
  sniff(head, file) {
    if (looksLikeIndex(head)) return true;
    // A long metadata block can push weight_map past the first bytes: then the name decides.
    return head[0] === 0x7b && file.path.endsWith('.safetensors.index.json');
  },
  open: openSafetensorsIndex,
};
