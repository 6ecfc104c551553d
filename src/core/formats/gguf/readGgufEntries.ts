/**
 * Reads a GGUF file's metadata with each value's type (the checkpoint reader keeps values only),
 * so a re-quantized file can carry every key over exactly as llama.cpp expects it.
 */
import { FormatError } from '../../FormatError';
import type { FileAccessor } from '../../io/FileAccessor';
import { DEFAULT_LIMITS } from '../../io/OpenLimits';
import { GgufCursor } from './GgufCursor';
import { GGUF_MIN_BYTES, GGUF_VALUE_TYPE as VT, type GgufArray, type GgufEntry, type GgufScalar, type GgufValueType } from './GgufMetadata';

async function scalar(c: GgufCursor, type: GgufValueType, key: string): Promise<GgufScalar> {
  if (type === VT.STRING) return c.string(`metadata ${key}`);
  await c.fill(GGUF_MIN_BYTES[type], `metadata ${key}`);
  return c.fixed(type);
}

function valueType(t: number, key: string, at: number): GgufValueType {
  if (!Number.isInteger(t) || t < 0 || t > 12) throw new FormatError(`metadata ${key} has unknown value type ${t}`, { format: 'gguf', offset: at });
  return t as GgufValueType;
}

async function value(c: GgufCursor, type: GgufValueType, key: string): Promise<GgufScalar | GgufArray> {
  if (type !== VT.ARRAY) return scalar(c, type, key);
  await c.fill(4, `metadata ${key}`);
  const itemType = valueType(c.u32(), key, c.pos - 4);
  const n = await c.count(`elements in array ${key}`, GGUF_MIN_BYTES[itemType]);
  if (itemType === VT.ARRAY) {
    const items: GgufArray[] = [];
    for (let i = 0; i < n; i++) items.push((await value(c, VT.ARRAY, key)) as GgufArray);
    return { itemType, items };
  }
  const items: GgufScalar[] = new Array<GgufScalar>(n);
  for (let i = 0; i < n; i++) items[i] = (itemType === VT.STRING ? c.bufferedString() : undefined) ?? (await scalar(c, itemType, key));
  return { itemType, items };
}

/** Every metadata entry of the GGUF file `file`, in file order, with its value type. */
export async function readGgufEntries(file: FileAccessor): Promise<GgufEntry[]> {
  const c = new GgufCursor(file, Math.min(file.size, DEFAULT_LIMITS.maxHeaderBytes));
  await c.fill(8, 'GGUF header');
  if (c.u32() !== 0x46554747) throw new FormatError('the file does not start with the GGUF magic', { format: 'gguf', offset: 0 });
  const version = c.u32();
  if (version !== 2 && version !== 3) throw new FormatError(`GGUF version ${version} is not read (versions 2 and 3 are)`, { format: 'gguf', offset: 4 });
  await c.count('tensors', 24);
  const kvCount = await c.count('metadata entries', 13);
  const out: GgufEntry[] = [];
  for (let i = 0; i < kvCount; i++) {
    const key = await c.string(`metadata key ${i}`);
    await c.fill(4, `metadata ${key}`);
    const type = valueType(c.u32(), key, c.pos - 4);
    out.push({ key, type, value: await value(c, type, key) });
  }
  return out;
}
