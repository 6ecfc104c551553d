/**
 * Loads a Hugging Face `tokenizer.json` (and the `tokenizer_config.json` beside it, when there is
 * one) into `@huggingface/tokenizers`, the pure-JavaScript port, so that calibration text can be
 * tokenized offline inside the worker.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { FormatError } from '../../core/FormatError';
import { formatBytes } from '../../core/tensor/formatBytes';

/** Largest tokenizer.json we read; the biggest real ones (large multilingual vocabularies) are a few tens of MB. */
export const MAX_TOKENIZER_BYTES = 128 * 2 ** 20;

/** Tokenizer models that `@huggingface/tokenizers` 0.2 can run (WordLevel through its Legacy model). */
export const SUPPORTED_TOKENIZER_MODELS: readonly string[] = ['BPE', 'WordPiece', 'Unigram', 'WordLevel'];

/** A loaded tokenizer, reduced to what calibration needs. */
export interface TextTokenizer {
  /** The file it came from, for messages. */
  readonly name: string;
  /** The tokenizer model type (`BPE`, `WordPiece`, …). */
  readonly modelType: string;
  /** One more than the largest id the tokenizer can produce (added tokens included). */
  readonly vocabSize: number;
  /**
   * The ids of `text`, without special tokens: calibration cuts one long stream into windows,
   * and a BOS or CLS token at every chunk boundary would put markers where the model never sees them.
   */
  encode(text: string): number[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readJson(path: string, limit: number, what: string): Promise<unknown> {
  const name = basename(path);
  const info = await stat(path).catch((e: unknown) => {
    throw new FormatError(`cannot read ${what} ${name}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  });
  if (!info.isFile()) throw new FormatError(`${what} ${name} is not a file`);
  if (info.size > limit) throw new FormatError(`${what} ${name} is ${formatBytes(info.size)}, more than the ${formatBytes(limit)} we read`);
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new FormatError(`${name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Keys under which a `Sequence` component lists its parts. */
const SEQUENCE_KEYS = ['normalizers', 'pretokenizers', 'processors', 'decoders'] as const;

/**
 * Checks that a pipeline component and its parts each name a type: without this check the port
 * reports a damaged file as `Unknown Normalizer type: undefined`, which names neither the file
 * nor the place.
 */
function checkComponent(file: string, value: unknown, where: string): void {
  if (value === null || value === undefined) return;
  if (!isRecord(value)) throw new FormatError(`${file}: "${where}" must be an object or null`);
  if (typeof value.type !== 'string') throw new FormatError(`${file}: "${where}" has no "type"`);
  for (const key of SEQUENCE_KEYS) {
    const parts = value[key];
    if (parts === undefined) continue;
    if (!Array.isArray(parts)) throw new FormatError(`${file}: "${where}.${key}" must be a list`);
    parts.forEach((p: unknown, i) => checkComponent(file, p, `${where}.${key}[${i}]`));
  }
}

/** The optional tokenizer_config.json beside the tokenizer; absent is normal, malformed is an error. */
async function readConfig(tokenizerPath: string): Promise<Record<string, unknown>> {
  const path = join(dirname(tokenizerPath), 'tokenizer_config.json');
  const exists = await stat(path).then((s) => s.isFile(), () => false);
  if (!exists) return {};
  const json = await readJson(path, 16 * 2 ** 20, 'tokenizer config');
  if (!isRecord(json)) throw new FormatError('tokenizer_config.json is not a JSON object');
  return json;
}

/**
 * Reads and checks a `tokenizer.json`. Throws {@link FormatError} for a file that is too large,
 * not JSON, not a tokenizer, or uses a model or component the JavaScript port does not have.
 */
export async function loadTokenizer(tokenizerPath: string): Promise<TextTokenizer> {
  const name = basename(tokenizerPath);
  const json = await readJson(tokenizerPath, MAX_TOKENIZER_BYTES, 'tokenizer');
  if (!isRecord(json) || !isRecord(json.model)) throw new FormatError(`${name} is not a Hugging Face tokenizer: it has no "model" object`);
  const model = json.model;
  const modelType = typeof model.type === 'string' ? model.type : '';
  if (!SUPPORTED_TOKENIZER_MODELS.includes(modelType)) {
    throw new FormatError(`${name} uses the tokenizer model ${modelType ? `"${modelType}"` : 'without a type'}; supported: ${SUPPORTED_TOKENIZER_MODELS.join(', ')}`);
  }
  if (!isRecord(model.vocab) && !Array.isArray(model.vocab)) throw new FormatError(`${name}: the ${modelType} model has no vocabulary`);
  // The port passes any unknown token through as the token text, so an object would come out as `[object Object]`.
  if (model.unk_token !== undefined && model.unk_token !== null && typeof model.unk_token !== 'string') throw new FormatError(`${name}: the model's "unk_token" must be a string`);

  if (Array.isArray(json.added_tokens)) {
    json.added_tokens.forEach((t: unknown, i) => {
      // The port reads each added token's content and id without checking them.
      if (!isRecord(t) || typeof t.content !== 'string' || !Number.isSafeInteger(t.id) || (t.id as number) < 0) {
        throw new FormatError(`${name}: added_tokens[${i}] needs a string "content" and a non-negative integer "id"`);
      }
    });
  }
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) checkComponent(name, json[key], key);

  const config = await readConfig(tokenizerPath);
  // The port maps a WordLevel model to its Legacy model, which takes the unknown token from the config.
  if (modelType === 'WordLevel' && config.unk_token === undefined && typeof model.unk_token === 'string') config.unk_token = model.unk_token;
  // The port requires these keys to exist, while files written by older versions of the Rust library omit some.
  const spec: Record<string, unknown> = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...json, added_tokens: Array.isArray(json.added_tokens) ? json.added_tokens : [] };

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(spec, config);
  } catch (e) {
    throw new FormatError(`${name} cannot be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  let vocabSize = 0;
  for (const id of tokenizer.get_vocab(true).values()) if (id + 1 > vocabSize) vocabSize = id + 1;

  return {
    name,
    modelType,
    vocabSize,
    encode(text: string): number[] {
      let encoding: { ids: number[]; tokens: string[] };
      try {
        encoding = tokenizer.encode(text, { add_special_tokens: false });
      } catch (e) {
        throw new FormatError(`${name} failed on the text: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      const { ids, tokens } = encoding;
      for (let i = 0; i < ids.length; i++) {
        // The port yields undefined for a token outside the vocabulary when there is no unknown token.
        const id: number | undefined = ids[i];
        if (id === undefined || !Number.isInteger(id) || id < 0) {
          // WordPiece without an unknown token gives neither an id nor a token string for the word.
          const token: string | undefined = tokens[i];
          const what = token === undefined ? 'a word' : `the token "${token}"`;
          throw new FormatError(`the text has ${what}, which is not in the vocabulary of ${name}, and the tokenizer has no unknown token`);
        }
      }
      return ids;
    },
  };
}
