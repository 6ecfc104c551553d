import { join } from 'node:path';
import { atomicWrite, type AtomicWriteOptions } from '../../io/atomicWrite';
import { safetensorsByteLength, writeSafetensors, type SafetensorsTensor } from './safetensorsWriter';

/** Options of {@link writeSafetensorsShards}. */
export interface ShardOptions extends AtomicWriteOptions {
  /** Largest data size of one shard (a single larger tensor still gets a shard of its own). Default 4 GiB. */
  readonly maxShardBytes?: number;
  /** `__metadata__` of every shard; Transformers expects `{ format: 'pt' }`. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Called before each shard is written, with its name and its 0-based position of `count`. */
  readonly onShard?: (name: string, index: number, count: number) => void;
}

/** What {@link writeSafetensorsShards} wrote. */
export interface ShardsWritten {
  /** File names in the folder: `model.safetensors`, or the shards then `model.safetensors.index.json`. */
  readonly files: readonly string[];
  /** Bytes of tensor data over all shards (the index's `metadata.total_size`). */
  readonly totalSize: number;
  /** Bytes written over all files. */
  readonly bytes: number;
}

/**
 * Writes `tensors` into `folder` the way Hugging Face's `save_pretrained` lays them out: one
 * `model.safetensors` when they fit in one shard, else `model-00001-of-0000N.safetensors` … in
 * order, with a `model.safetensors.index.json` whose `weight_map` names each tensor's shard. Every
 * file is written atomically and none replaces an existing one.
 */
export async function writeSafetensorsShards(folder: string, tensors: readonly SafetensorsTensor[], options: ShardOptions = {}): Promise<ShardsWritten> {
  const max = options.maxShardBytes ?? 4 * 2 ** 30;
  const shards: SafetensorsTensor[][] = [];
  let current: SafetensorsTensor[] = [], size = 0, totalSize = 0;
  for (const t of tensors) {
    const n = safetensorsByteLength(t.name, t.dtype, t.shape);
    if (current.length > 0 && size + n > max) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += n;
    totalSize += n;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  const count = shards.length;
  const pad = (i: number): string => String(i).padStart(5, '0');
  const names = count === 1 ? ['model.safetensors'] : shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(count)}.safetensors`);
  const shardOptions = { overwrite: options.overwrite, source: options.source, isCancelled: options.isCancelled, metadata: options.metadata };
  let bytes = 0;
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    options.onShard?.(names[i], i, count);
    bytes += await writeSafetensors(join(folder, names[i]), shards[i], shardOptions);
    for (const t of shards[i]) weightMap[t.name] = names[i];
  }
  if (count === 1) return { files: names, totalSize, bytes };
  const index = `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)}\n`;
  bytes += await atomicWrite(join(folder, 'model.safetensors.index.json'), [new TextEncoder().encode(index)], { overwrite: options.overwrite, isCancelled: options.isCancelled });
  return { files: [...names, 'model.safetensors.index.json'], totalSize, bytes };
}
