/**
 * Calibration batches for language models from a text file and a `tokenizer.json`: the text is
 * tokenized into one stream of ids, cut into windows of the sequence length, and the windows are
 * grouped into batches that fill the model's token-id input and its usual companions
 * (`attention_mask`, `token_type_ids`, `position_ids`).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { FormatError } from '../../core/FormatError';
import { isPastCacheInput, ortTypeName, resolveShape, type Batch, type FeedTensor, type InputSpec } from '../../core/calibration/calibrationInputs';
import { embeddingTable } from '../../core/onnx/embeddingTable';
import { ElementType } from '../../core/onnx/onnxMessages';
import type { OnnxModel } from '../../core/onnx/OnnxModel';
import { formatBytes } from '../../core/tensor/formatBytes';
import { QUIET_JOB, throwIfCancelled, type JobContext } from './JobContext';
import { loadTokenizer, type TextTokenizer } from './loadTokenizer';

/** Largest calibration text we read. Calibration needs thousands of tokens, not gigabytes. */
export const MAX_TEXT_BYTES = 64 * 2 ** 20;

/** Text is tokenized in pieces of about this many characters, cut at line ends. */
const CHUNK_CHARS = 64 * 1024;

/** Options for {@link textBatches}. */
export interface TextBatchOptions {
  /** Tokens per window when the model's sequence axis is symbolic. Default 128; a fixed axis wins. */
  readonly sequenceLength?: number;
  /** Windows per batch when the model's batch axis is symbolic. Default 1; a fixed axis wins. */
  readonly batchSize?: number;
  /** Batches wanted. Default 8; fewer when the text is too short. */
  readonly batches?: number;
  /**
   * Take the windows from the end of the token stream instead of the start, so that a validation
   * run sees text that calibration (from the start) did not. The two sets are disjoint as long as
   * the text has at least as many tokens as both runs together.
   */
  readonly heldOut?: boolean;
  /** The model, to check the token ids against the rows of its embedding table before ONNX Runtime's Gather fails on them. */
  readonly model?: OnnxModel;
}

/** What {@link textBatches} built. */
export interface TextBatches {
  readonly batches: Batch[];
  /** Tokens fed: the windows' lengths summed over all batches. */
  readonly tokens: number;
  /** The tokenizer's vocabulary size (one more than its largest id). */
  readonly vocabSize: number;
}


const MASK = 'attention_mask';
const TOKEN_TYPES = 'token_type_ids';
const POSITIONS = 'position_ids';
const COMPANIONS = new Set([MASK, TOKEN_TYPES, POSITIONS]);
/** ONNX Runtime types {@link filled} can build. */
const FILLABLE = new Set(['int64', 'int32', 'float32', 'float64', 'bool', 'uint8', 'int8']);


/** The declared size of an axis, or undefined when it is symbolic or unknown. */
function fixedAxis(spec: InputSpec, axis: number): number | undefined {
  const d = spec.shape?.[axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function isIntegerSpec(spec: InputSpec): boolean {
  return spec.elemType === ElementType.INT64 || spec.elemType === ElementType.INT32;
}

/** The input that takes the token ids: `input_ids`, else the one integer input with a symbolic last (sequence) axis. */
function tokenInput(specs: readonly InputSpec[]): InputSpec {
  const named = specs.find((s) => s.name === 'input_ids');
  if (named) return named;
  const candidates = specs.filter((s) => !COMPANIONS.has(s.name) && isIntegerSpec(s) && s.shape !== undefined && s.shape.length > 0 && fixedAxis(s, s.shape.length - 1) === undefined);
  if (candidates.length === 1) return candidates[0];
  const names = specs.map((s) => s.name).join(', ') || 'none';
  throw new FormatError(
    candidates.length
      ? `cannot tell which input takes the token ids: ${candidates.map((s) => s.name).join(' and ')} could (inputs: ${names}); name it input_ids`
      : `no input of the model takes token ids: text calibration needs input_ids or one int64/int32 input with a symbolic sequence axis (inputs: ${names})`,
    { format: 'onnx' },
  );
}

/** A tensor of `type` whose i-th element is `value(i)`. */
function filled(spec: InputSpec, dims: readonly number[], value: (i: number) => number): FeedTensor {
  const type = ortTypeName(spec.elemType);
  const n = dims.reduce((a, b) => a * b, 1);
  switch (type) {
    case 'int64': return { type, dims, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(value(i))) };
    case 'int32': return { type, dims, data: Int32Array.from({ length: n }, (_, i) => value(i)) };
    case 'float32': return { type, dims, data: Float32Array.from({ length: n }, (_, i) => value(i)) };
    case 'float64': return { type, dims, data: Float64Array.from({ length: n }, (_, i) => value(i)) };
    case 'bool': case 'uint8': return { type, dims, data: Uint8Array.from({ length: n }, (_, i) => value(i)) };
    case 'int8': return { type, dims, data: Int8Array.from({ length: n }, (_, i) => value(i)) };
    default: throw new Error(`filled: ${spec.name} of type ${type} passed the FILLABLE check`);
  }
}

/**
 * The dims of a companion input: its fixed axes as declared (1 broadcasts), its symbolic ones
 * taken from the token ids at the same axis. Ranks must match, since we cannot guess other layouts.
 */
function companionDims(spec: InputSpec, ids: InputSpec, idsDims: readonly number[]): number[] {
  const rank = spec.shape?.length ?? idsDims.length;
  if (rank !== idsDims.length) {
    throw new FormatError(`input ${spec.name} has rank ${rank} but ${ids.name} has rank ${idsDims.length}; text calibration cannot fill it (give it as a fixed input)`, { format: 'onnx' });
  }
  return idsDims.map((d, axis) => {
    const fixed = fixedAxis(spec, axis);
    if (fixed === undefined || fixed === d) return d;
    if (fixed === 1) return 1;
    throw new FormatError(`input ${spec.name} declares ${fixed} at axis ${axis} where ${ids.name} has ${d}`, { format: 'onnx' });
  });
}

/** Character ranges of `text` of about {@link CHUNK_CHARS}, cut after a newline, else a space, never inside a surrogate pair. */
function chunkRanges(text: string): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + CHUNK_CHARS);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end - 1);
      const sp = text.lastIndexOf(' ', end - 1);
      if (nl > start) end = nl + 1;
      else if (sp > start) end = sp + 1;
      else if (/[\uD800-\uDBFF]/.test(text[end - 1])) end--;
    }
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** Lets a pending cancellation arrive between chunks; tokenizing is synchronous work. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Tokenizes `text` chunk by chunk from the start (or from the end when `fromEnd`) until `needed`
 * tokens are there or the text is used up; stopping early keeps a 64 MiB file cheap when only a
 * few thousand tokens are fed.
 */
async function tokenStream(text: string, tokenizer: TextTokenizer, needed: number, fromEnd: boolean, ctx: JobContext): Promise<number[]> {
  const ranges = chunkRanges(text);
  if (fromEnd) ranges.reverse();
  const parts: number[][] = [];
  let count = 0;
  for (const [start, end] of ranges) {
    if (count >= needed) break;
    throwIfCancelled(ctx);
    const ids = tokenizer.encode(text.slice(start, end));
    parts.push(ids);
    count += ids.length;
    ctx.progress(`tokenizing with ${tokenizer.name}`, Math.min(1, count / needed));
    if (ranges.length > 1) await yieldToEventLoop();
  }
  if (fromEnd) parts.reverse();
  return parts.flat();
}

async function readText(textPath: string): Promise<string> {
  const name = basename(textPath);
  const info = await stat(textPath).catch((e: unknown) => {
    throw new FormatError(`cannot read calibration text ${name}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  });
  if (!info.isFile()) throw new FormatError(`calibration text ${name} is not a file`);
  if (info.size > MAX_TEXT_BYTES) {
    throw new FormatError(`calibration text ${name} is ${formatBytes(info.size)}, more than the ${formatBytes(MAX_TEXT_BYTES)} text calibration reads; cut the file (a few hundred kB of text is plenty)`);
  }
  const bytes = await readFile(textPath);
  try {
    // Fatal decoding, so a binary file picked by mistake fails here instead of feeding garbage tokens.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (e) {
    throw new FormatError(`calibration text ${name} is not UTF-8 text`, { cause: e });
  }
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, not ${v}`);
  return v;
}

/**
 * Builds calibration batches for a language model from the text at `textPath`, tokenized with
 * the `tokenizer.json` at `tokenizerPath` (and a `tokenizer_config.json` beside it, if any).
 *
 * `specs` are the inputs to fill — the model's declared inputs minus those the caller feeds
 * itself (as fixed inputs): the token ids (`input_ids`, or the one int64/int32 input with a
 * symbolic sequence axis), `attention_mask` (ones), `token_type_ids` (zeros) and `position_ids`
 * (0..L−1), and a decoder's KV cache (empty, as for a prefill). Any other input is a
 * {@link FormatError} naming it.
 *
 * The token stream is cut into consecutive windows of `sequenceLength` tokens, `batchSize`
 * windows to a batch, from the start of the text, or from its end with `heldOut`. With too
 * little text there are fewer batches; a last, smaller batch is kept when the batch axis is
 * symbolic; with less than one window of text, a model with a symbolic sequence axis gets one
 * shorter window and a model with a fixed one gets an error.
 */
export async function textBatches(
  textPath: string,
  tokenizerPath: string,
  specs: readonly InputSpec[],
  options: TextBatchOptions = {},
  ctx: JobContext = QUIET_JOB,
): Promise<TextBatches> {
  const ids = tokenInput(specs);
  const caches = specs.filter((s) => s !== ids && isPastCacheInput(s));
  const others = specs.filter((s) => s !== ids && !COMPANIONS.has(s.name) && !caches.includes(s));
  if (others.length) {
    throw new FormatError(
      `text calibration fills ${ids.name}, ${MASK}, ${TOKEN_TYPES} and ${POSITIONS}, but the model also takes ${others.map((s) => s.name).join(', ')}; give ${others.length > 1 ? 'them' : 'it'} as fixed inputs`,
      { format: 'onnx' },
    );
  }
  if (!isIntegerSpec(ids)) throw new FormatError(`input ${ids.name} is ${ortTypeName(ids.elemType)}; token ids must be int64 or int32`, { format: 'onnx' });
  const rank = ids.shape?.length ?? 2;
  if (rank !== 1 && rank !== 2) throw new FormatError(`input ${ids.name} has rank ${rank}; text calibration feeds token ids as [batch, sequence] or [sequence]`, { format: 'onnx' });
  const companions = specs.filter((s) => COMPANIONS.has(s.name));
  // Checked before the text is read, so a model we cannot feed fails at once.
  for (const s of [...companions, ...caches]) {
    const type = ortTypeName(s.elemType);
    if (!FILLABLE.has(type)) throw new FormatError(`input ${s.name} is ${type}; text calibration fills it only as ${[...FILLABLE].join(', ')}`, { format: 'onnx' });
  }

  const seqAxis = rank - 1;
  const fixedSeq = fixedAxis(ids, seqAxis);
  const fixedBatch = rank === 2 ? fixedAxis(ids, 0) : 1;
  const seq = fixedSeq ?? positiveInteger(options.sequenceLength, 128, 'sequenceLength');
  const rowsPerBatch = fixedBatch ?? positiveInteger(options.batchSize, 1, 'batchSize');
  const wantedBatches = positiveInteger(options.batches, 8, 'batches');

  const [text, tokenizer] = await Promise.all([readText(textPath), loadTokenizer(tokenizerPath)]);
  const stream = await tokenStream(text, tokenizer, wantedBatches * rowsPerBatch * seq, options.heldOut === true, ctx);
  const textName = basename(textPath);
  if (!stream.length) throw new FormatError(`calibration text ${textName} gives no tokens`);

  let length = seq;
  if (stream.length < seq) {
    if (fixedSeq !== undefined) {
      throw new FormatError(`input ${ids.name} takes exactly ${fixedSeq} tokens, but ${textName} gives only ${stream.length}; give more text`, { format: 'onnx' });
    }
    length = stream.length;
  }
  const windows = Math.min(Math.floor(stream.length / length), wantedBatches * rowsPerBatch);
  // A partial batch can only go to a model whose batch axis is symbolic.
  const rowsOfBatch: number[] = [];
  for (let left = windows; left > 0 && rowsOfBatch.length < wantedBatches; left -= rowsPerBatch) {
    if (left >= rowsPerBatch) rowsOfBatch.push(rowsPerBatch);
    else if (fixedBatch === undefined) rowsOfBatch.push(left);
  }
  if (!rowsOfBatch.length) {
    throw new FormatError(`input ${ids.name} takes batches of exactly ${rowsPerBatch} windows of ${length} tokens, but ${textName} gives only ${windows} (${stream.length} tokens); give more text`, { format: 'onnx' });
  }

  // Windows start at the beginning of the stream, or end at its end for held-out text.
  const used = rowsOfBatch.reduce((a, b) => a + b, 0) * length;
  const first = options.heldOut ? stream.length - used : 0;

  const model = options.model;
  if (model) {
    const table = embeddingTable(model, ids.name);
    if (table) {
      let max = -1;
      for (let i = first; i < first + used; i++) if (stream[i] > max) max = stream[i];
      if (max >= table.rows) {
        throw new FormatError(
          `token id ${max} from ${tokenizer.name} (vocabulary of ${tokenizer.vocabSize}) is outside the model's embedding ${table.tensor} of ${table.rows} rows: the tokenizer does not belong to this model`,
          { format: 'onnx' },
        );
      }
    }
  }

  const batches: Batch[] = [];
  let offset = first;
  for (const rows of rowsOfBatch) {
    const dims = rank === 2 ? [rows, length] : [length];
    const window = stream.slice(offset, offset + rows * length);
    offset += rows * length;
    const batch: Batch = { [ids.name]: filled(ids, dims, (i) => window[i]) };
    for (const s of companions) {
      const cdims = companionDims(s, ids, dims);
      const last = cdims[cdims.length - 1] ?? 1;
      batch[s.name] = filled(s, cdims, s.name === MASK ? () => 1 : s.name === POSITIONS ? (i) => i % last : () => 0);
    }
    for (const s of caches) batch[s.name] = filled(s, resolveShape(s, { batchSize: rows, sequenceLength: length }), () => 0);
    batches.push(batch);
  }
  return { batches, tokens: used, vocabSize: tokenizer.vocabSize };
}
