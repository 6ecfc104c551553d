/**
 * Writes a decoder as a GGUF file llama.cpp loads: from a GGUF (re-quantization: metadata and
 * tensor names kept, no config needed) or from a Hugging Face folder (llama.cpp's names and
 * metadata, Q/K rows permuted as its converter does, vocabulary from tokenizer.json). The new
 * file goes beside the source, is re-opened and every tensor decoded before it is reported;
 * on any failure nothing is left behind.
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decoderTensors, storedName } from '../decoder/decoderTensors';
import type { DecoderSource } from '../decoder/DecoderSource';
import { openDecoderSource } from '../decoder/openDecoderSource';
import type { Checkpoint, TensorInfo } from '../formats/Checkpoint';
import { gguf, type GgufEntry } from '../formats/gguf/GgufMetadata';
import { readGgufEntries } from '../formats/gguf/readGgufEntries';
import { writeGguf, type GgufTensorOut } from '../formats/gguf/writeGguf';
import { openCheckpoint } from '../formats/registry';
import { FileAccessor } from '../io/FileAccessor';
import { nextFreeName } from '../io/nextFreeName';
import type { DType } from '../tensor/DType';
import { ggmlBlockType, ggmlTypeById, type GgmlType } from '../tensor/ggmlBlocks';
import { encodeGgml, usesImportance } from '../tensor/ggmlQuantizers';
import { compareImportance } from './importanceError';
import { readTensor } from '../tensor/TensorReader';
import { chooseTensorType, fileTypeOf, isQuantizable, targetName, type GgufTarget } from './ggufTypeRules';
import { architectureEntries, ggufArchitecture, tokenizerEntries } from './hfGgufMetadata';
import { permuteRotary } from '../decoder/unpermuteRotary';
import type { GgufExportReport, GgufTensorEntry } from '../../protocol/ggufExportTypes';

/** Options for {@link quantizeToGguf}. */
export interface GgufQuantizeOptions {
  readonly target: GgufTarget;
  /** Output path; default beside the source, named after it and the target (`model.q4_k_m.gguf`). */
  readonly output?: string;
  readonly onProgress?: (done: number, total: number, tensor: string) => void;
  readonly isCancelled?: () => boolean;
  /**
   * Importance of each input column of a weight (mean x_j² over calibration rows, llama.cpp's
   * imatrix), by the tensor's name in the source (the Hugging Face name, or the GGUF name when
   * re-quantizing). The types llama.cpp weights (Q3_K–Q6_K, Q4_0, Q5_0, Q4_1, Q5_1) then minimize the weighted
   * error; a tensor without importance is rounded to nearest.
   */
  readonly importance?: (sourceName: string) => Float32Array | undefined;
}

/** One written tensor: the wire's record, so the worker's report passes it on unchanged. */
export type GgufTensorReport = GgufTensorEntry;

/** What {@link quantizeToGguf} wrote and checked: the wire's report without the calibration and the time, which the job adds. */
export type GgufQuantizeReport = Omit<GgufExportReport, 'calibration' | 'seconds'>;

/** Architectures whose tensor names the preset rules were written for. */
const KNOWN_ARCHITECTURES = new Set(['llama', 'qwen2', 'mistral', 'qwen3', 'gemma', 'gemma2', 'phi3']);
/** Keys a re-quantized file gets anew. */
const REPLACED_KEYS = new Set(['general.file_type', 'general.quantization_version', 'general.alignment']);

interface Plan {
  readonly architecture: string;
  readonly metadata: GgufEntry[];
  readonly tensors: { readonly out: GgufTensorOut; readonly report: Omit<GgufTensorReport, 'bytes' | 'importance'> }[];
  readonly warnings: string[];
}

/** The errors of the tensors written with importance, by output name, filled as they are encoded. */
type ImportanceErrors = Map<string, NonNullable<GgufTensorReport['importance']>>;

/** Encodes `values`, with the importance when there is one, and records both errors for the report. */
function encodeMeasured(name: string, type: GgmlType, values: Float32Array, imp: Float32Array | undefined, errors: ImportanceErrors): Uint8Array {
  const bytes = encodeGgml(type, values, imp);
  if (imp) {
    const e = compareImportance(type, values, bytes, imp);
    errors.set(name, { weightedError: e.importance, rtnWeightedError: e.rtn });
  }
  return bytes;
}

async function isGgufFile(path: string): Promise<boolean> {
  if (!(await stat(path)).isFile()) return false;
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && String.fromCharCode(...head) === 'GGUF';
  } finally {
    await fh.close();
  }
}

async function rawBytes(t: TensorInfo): Promise<Uint8Array> {
  if (t.source.kind !== 'file') throw new Error(`tensor ${t.name} is not stored in a plain file range`);
  const fh = await open(t.source.path, 'r');
  try {
    const out = new Uint8Array(t.source.length);
    await fh.read(out, 0, out.length, t.source.offset);
    return out;
  } finally {
    await fh.close();
  }
}

function ggmlTypeOfDtype(dtype: DType): GgmlType | undefined {
  const plain: Record<string, number> = { F32: 0, F16: 1, BF16: 30, I8: 24, I16: 25, I32: 26, I64: 27, F64: 28 };
  return ggmlBlockType(dtype) ?? (dtype in plain ? ggmlTypeById(plain[dtype]) : undefined);
}

function choose(target: GgufTarget, name: string, shape: readonly number[], layers: number, warnings: string[]): { type: GgmlType; wanted?: string } {
  const c = chooseTensorType(target, name, shape, { layers });
  if (c.wanted) warnings.push(`${name}: rows of ${shape[shape.length - 1]} do not split into ${c.wanted.name} blocks of ${c.wanted.blockSize}; written as ${c.type.name}`);
  return { type: c.type, wanted: c.wanted?.name };
}

/** The importance for a tensor of `shape` in `type`, when given, of the row's length, and used by the type. */
function importanceFor(importance: GgufQuantizeOptions['importance'], name: string, outName: string, shape: readonly number[], type: GgmlType): Float32Array | undefined {
  // A tied head's table is the embedding: llama.cpp keeps no importance for token_embd.
  if (outName === 'token_embd.weight') return undefined;
  const imp = importance?.(name);
  if (!imp || shape.length !== 2 || !usesImportance(type)) return undefined;
  if (imp.length !== shape[1]) throw new Error(`the importance of ${name} has ${imp.length} columns, its rows ${shape[1]}`);
  return imp;
}

async function planFromGguf(checkpoint: Checkpoint, target: GgufTarget, importance: GgufQuantizeOptions['importance'], errors: ImportanceErrors): Promise<Plan> {
  const file = await FileAccessor.open(checkpoint.path);
  const entries = await readGgufEntries(file);
  const warnings: string[] = [];
  const arch = entries.find((e) => e.key === 'general.architecture')?.value;
  const architecture = typeof arch === 'string' ? arch : 'unknown';
  if (!KNOWN_ARCHITECTURES.has(architecture)) warnings.push(`architecture "${architecture}" is not one the preset rules know; its metadata is copied as-is and tensors follow the generic rules`);
  const blockCount = entries.find((e) => e.key === `${architecture}.block_count`)?.value;
  const layers = typeof blockCount === 'number' ? blockCount : 1 + Math.max(0, ...checkpoint.tensors.map((t) => Number(/^blk\.(\d+)\./.exec(t.name)?.[1] ?? -1)));
  const metadata = entries.filter((e) => !REPLACED_KEYS.has(e.key));
  let requantized = 0;
  const tensors = checkpoint.tensors.map((t) => {
    const source = ggmlTypeOfDtype(t.dtype);
    if (!source) throw new Error(`tensor ${t.name} has dtype ${t.dtype}, which has no ggml type`);
    if (!isQuantizable(t.name, t.shape)) {
      // llama-quantize copies what it does not quantize, bytes and type unchanged.
      return { out: { name: t.name, shape: t.shape, type: source, data: () => rawBytes(t) }, report: { name: t.name, shape: t.shape, from: source.name, type: source.name } };
    }
    if (!source.dequantize && source.blockSize > 1) throw new Error(`tensor ${t.name} is ${source.name}, which cannot be decoded for re-quantization`);
    if (source.blockSize > 1) requantized++;
    const { type, wanted } = choose(target, t.name, t.shape, layers, warnings);
    const imp = importanceFor(importance, t.name, t.name, t.shape, type);
    const data = async (): Promise<Uint8Array> => (type.id === source.id && !imp ? rawBytes(t) : encodeMeasured(t.name, type, await readTensor(t), imp, errors));
    return { out: { name: t.name, shape: t.shape, type, data }, report: { name: t.name, shape: t.shape, from: source.name, type: type.name, ...(wanted ? { wanted } : {}) } };
  });
  if (requantized) warnings.push(`${requantized} tensors were already quantized; re-quantizing adds their rounding error to the new one`);
  return { architecture, metadata, tensors, warnings };
}

async function readJsonIfPresent(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${basename(path)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function planFromDecoder(source: DecoderSource, target: GgufTarget, importance: GgufQuantizeOptions['importance'], errors: ImportanceErrors): Promise<Plan> {
  const c = source.config;
  const folder = dirname(source.files[0]);
  const arch = ggufArchitecture(c);
  const { entries, warnings } = architectureEntries(c, basename(folder));
  const config = await readJsonIfPresent(join(folder, 'config.json'));
  const tokenizer = await readJsonIfPresent(join(folder, 'tokenizer.json'));
  if (tokenizer === undefined) {
    warnings.push(`${basename(folder)} has no tokenizer.json: the GGUF carries no vocabulary, and llama.cpp refuses to load a model without one`);
  } else {
    const tok = tokenizerEntries(tokenizer, config, c.vocabSize);
    entries.push(...tok.entries);
    warnings.push(...tok.warnings);
  }
  const tensors = decoderTensors(c).map((want) => {
    const name = storedName(want.name, 'gguf');
    const stored = source.tensor(want.name);
    const { type, wanted } = isQuantizable(name, want.shape) ? choose(target, name, want.shape, c.numLayers, warnings) : { type: ggmlTypeById(0) as GgmlType, wanted: undefined };
    // The rotary permutation moves rows, never input columns, so the importance applies as measured.
    const imp = importanceFor(importance, want.name, name, want.shape, type);
    const data = async (): Promise<Uint8Array> => {
      let values = await source.read(want.name);
      // llama.cpp rotates interleaved pairs for llama; Qwen2 keeps Hugging Face's halves.
      if (arch === 'llama' && want.rotaryHeads !== undefined) values = permuteRotary(values, want.rotaryHeads, want.shape.length === 2 ? want.shape[1] : 1);
      return encodeMeasured(name, type, values, imp, errors);
    };
    return { out: { name, shape: want.shape, type, data }, report: { name, shape: want.shape, from: stored?.dtype ?? 'F32', type: type.name, ...(wanted ? { wanted } : {}) } };
  });
  return { architecture: arch, metadata: entries, tensors, warnings };
}

function defaultOutput(sourcePath: string, isGguf: boolean, tag: string, folder: string): string {
  return isGguf ? nextFreeName(sourcePath, tag) : nextFreeName(join(folder, `${basename(folder)}.gguf`), tag);
}

/** Re-opens the written file and checks names, shapes, types and metadata, and that every tensor decodes. */
async function verify(path: string, plan: Plan): Promise<void> {
  const ckpt = await openCheckpoint(path);
  if (ckpt.tensors.length !== plan.tensors.length) throw new Error(`the written file lists ${ckpt.tensors.length} tensors, ${plan.tensors.length} were written`);
  ckpt.tensors.forEach((t, i) => {
    const want = plan.tensors[i].out;
    if (t.name !== want.name || t.dtype !== want.type.dtype || t.shape.join(',') !== want.shape.join(',')) {
      throw new Error(`tensor ${i} reads back as ${t.name} ${t.dtype} [${t.shape.join(', ')}], written as ${want.name} ${want.type.dtype} [${want.shape.join(', ')}]`);
    }
  });
  for (const t of ckpt.tensors) {
    const type = ggmlTypeOfDtype(t.dtype);
    if (type && (type.blockSize === 1 ? /^(F|BF)/.test(type.name) : type.dequantize)) {
      const v = await readTensor(t);
      for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new Error(`tensor ${t.name} decodes to a non-finite value at ${i}`);
    }
  }
  for (const e of plan.metadata) if (!(e.key in ckpt.metadata)) throw new Error(`metadata ${e.key} is missing from the written file`);
}

/**
 * Writes `sourcePath` (a `.gguf`, or a Hugging Face decoder folder or file) as GGUF in `target`'s
 * types; returns the report. Throws, leaving no file, when the source cannot be read, the output
 * exists, or the written file does not read back as planned.
 */
export async function quantizeToGguf(sourcePath: string, options: GgufQuantizeOptions): Promise<GgufQuantizeReport> {
  const { target } = options;
  const isGguf = await isGgufFile(sourcePath).catch(() => false);
  let plan: Plan;
  let folder = dirname(sourcePath);
  const errors: ImportanceErrors = new Map();
  if (isGguf) {
    plan = await planFromGguf(await openCheckpoint(sourcePath), target, options.importance, errors);
  } else {
    const source = await openDecoderSource(sourcePath);
    folder = dirname(source.files[0]);
    plan = await planFromDecoder(source, target, options.importance, errors);
  }
  plan.metadata.push(gguf.u32('general.quantization_version', 2), gguf.u32('general.file_type', fileTypeOf(target)));
  const output = options.output ?? defaultOutput(sourcePath, isGguf, targetName(target).toLowerCase(), folder);
  const total = plan.tensors.length;
  let done = 0;
  const sizes = new Map<string, number>();
  const tensors = plan.tensors.map(({ out }) => ({
    ...out,
    data: async (): Promise<Uint8Array> => {
      const bytes = await out.data();
      sizes.set(out.name, bytes.length);
      options.onProgress?.(++done, total, out.name);
      return bytes;
    },
  }));
  const fileBytes = await writeGguf(output, { metadata: plan.metadata, tensors }, { source: sourcePath, isCancelled: options.isCancelled });
  try {
    await verify(output, plan);
  } catch (e) {
    await rm(output, { force: true });
    throw new Error(`the written GGUF did not read back and was removed: ${e instanceof Error ? e.message : String(e)}`);
  }
  let bits = 0;
  let elements = 0;
  const reports = plan.tensors.map(({ report }) => {
    const bytes = sizes.get(report.name) ?? 0;
    bits += bytes * 8;
    elements += report.shape.reduce((a, b) => a * b, 1);
    const importance = errors.get(report.name);
    return { ...report, ...(importance ? { importance } : {}), bytes };
  });
  return { source: sourcePath, output, target: targetName(target), architecture: plan.architecture, tensors: reports, fileBytes, elements, bitsPerWeight: bits / elements, warnings: plan.warnings };
}
