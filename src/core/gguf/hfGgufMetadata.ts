/**
 * llama.cpp metadata for a Hugging Face decoder: the architecture keys (`llama.*` / `qwen2.*`)
 * from its validated config, and the vocabulary keys (`tokenizer.ggml.*`) from `tokenizer.json`,
 * as llama.cpp's converter writes them. llama.cpp refuses a model without vocabulary keys.
 */
import type { DecoderConfig } from '../decoder/DecoderConfig';
import { gguf, GGUF_VALUE_TYPE as VT, type GgufEntry } from '../formats/gguf/GgufMetadata';

/** llama.cpp's architecture name for a decoder family: Mistral runs as llama there. */
export function ggufArchitecture(c: DecoderConfig): 'llama' | 'qwen2' {
  return c.modelType === 'qwen2' ? 'qwen2' : 'llama';
}

/** The `<arch>.*` keys for `c`, plus notes on what llama.cpp cannot express. */
export function architectureEntries(c: DecoderConfig, name: string): { entries: GgufEntry[]; warnings: string[] } {
  const arch = ggufArchitecture(c);
  const a = `${arch}.`;
  const warnings: string[] = [];
  const entries: GgufEntry[] = [
    gguf.str('general.architecture', arch),
    gguf.str('general.name', name),
    gguf.u32(`${a}context_length`, c.maxPositionEmbeddings),
    gguf.u32(`${a}embedding_length`, c.hiddenSize),
    gguf.u32(`${a}block_count`, c.numLayers),
    gguf.u32(`${a}feed_forward_length`, c.intermediateSize),
    gguf.u32(`${a}rope.dimension_count`, c.headDim),
    gguf.u32(`${a}attention.head_count`, c.numHeads),
    gguf.u32(`${a}attention.head_count_kv`, c.numKvHeads),
    gguf.f32(`${a}attention.layer_norm_rms_epsilon`, c.rmsNormEps),
    gguf.f32(`${a}rope.freq_base`, c.ropeTheta),
    gguf.u32(`${a}vocab_size`, c.vocabSize),
  ];
  if (c.headDim * c.numHeads !== c.hiddenSize) {
    entries.push(gguf.u32(`${a}attention.key_length`, c.headDim), gguf.u32(`${a}attention.value_length`, c.headDim));
  }
  if (c.ropeScaling?.type === 'linear') {
    entries.push(gguf.str(`${a}rope.scaling.type`, 'linear'), gguf.f32(`${a}rope.scaling.factor`, c.ropeScaling.factor));
  } else if (c.ropeScaling) {
    warnings.push(`rope scaling "${c.ropeScaling.type}" is not written: llama.cpp will use unscaled rotary frequencies`);
  }
  if (c.slidingWindow !== undefined) warnings.push(`the sliding window of ${c.slidingWindow} positions is not written: llama.cpp's llama architecture attends to the whole context`);
  return { entries, warnings };
}

interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special?: boolean;
}

/** llama.cpp's token types. */
const TT = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Special token ids from config.json (`bos_token_id`, `eos_token_id`, `pad_token_id`), first of a list. */
function specialIds(config: unknown): GgufEntry[] {
  const out: GgufEntry[] = [];
  if (!isRecord(config)) return out;
  for (const [field, key] of [['bos_token_id', 'bos'], ['eos_token_id', 'eos'], ['pad_token_id', 'padding']] as const) {
    const v = config[field];
    const id: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0) out.push(gguf.u32(`tokenizer.ggml.${key}_token_id`, id));
  }
  return out;
}

/**
 * The `tokenizer.ggml.*` keys for a `tokenizer.json` (parsed), padded to `vocabSize` tokens:
 * byte-fallback BPE (Llama, Mistral) as llama.cpp's `llama` (SentencePiece) vocabulary,
 * byte-level BPE (GPT-2, Qwen2) as `gpt2` with its merges, WordPiece as `bert`. Returns no
 * entries and a warning for other tokenizers.
 */
export function tokenizerEntries(tokenizer: unknown, config: unknown, vocabSize: number): { entries: GgufEntry[]; warnings: string[] } {
  const model = isRecord(tokenizer) ? tokenizer.model : undefined;
  if (!isRecord(model) || !isRecord(model.vocab)) return { entries: [], warnings: ['tokenizer.json has no model.vocab; the GGUF carries no vocabulary and llama.cpp will not load it'] };
  const kind = model.type === 'BPE' ? (model.byte_fallback === true ? 'llama' : 'gpt2') : model.type === 'WordPiece' ? 'bert' : undefined;
  if (!kind) return { entries: [], warnings: [`tokenizer.json model type ${String(model.type)} is not converted; the GGUF carries no vocabulary`] };
  const added: AddedToken[] = isRecord(tokenizer) && Array.isArray(tokenizer.added_tokens) ? (tokenizer.added_tokens as AddedToken[]) : [];
  const byId = new Map<number, string>();
  for (const [text, id] of Object.entries(model.vocab)) if (typeof id === 'number') byId.set(id, text);
  for (const t of added) byId.set(t.id, t.content);
  const count = Math.max(vocabSize, ...[...byId.keys()].map((id) => id + 1));
  const warnings: string[] = [];
  if (count > vocabSize) warnings.push(`tokenizer.json has ${count} tokens but the embedding has ${vocabSize} rows`);
  const special = new Set(added.filter((t) => t.special).map((t) => t.id));
  const userDefined = new Set(added.filter((t) => !t.special).map((t) => t.id));
  const unk = typeof model.unk_token === 'string' ? model.unk_token : undefined;
  const tokens: string[] = [];
  const types: number[] = [];
  const scores: number[] = [];
  for (let id = 0; id < count; id++) {
    const text = byId.get(id);
    tokens.push(text ?? `[PAD${id}]`);
    scores.push(-id);
    if (text === undefined) types.push(TT.UNUSED);
    else if (text === unk) types.push(TT.UNKNOWN);
    else if (special.has(id)) types.push(TT.CONTROL);
    else if (userDefined.has(id)) types.push(TT.USER_DEFINED);
    else if (kind === 'llama' && /^<0x[0-9A-F]{2}>$/.test(text)) types.push(TT.BYTE);
    else types.push(TT.NORMAL);
  }
  const entries: GgufEntry[] = [
    gguf.str('tokenizer.ggml.model', kind),
    gguf.array('tokenizer.ggml.tokens', VT.STRING, tokens),
    gguf.array('tokenizer.ggml.token_type', VT.I32, types),
  ];
  if (kind === 'llama') entries.push(gguf.array('tokenizer.ggml.scores', VT.F32, scores));
  if (kind === 'gpt2') {
    entries.push(gguf.str('tokenizer.ggml.pre', 'default'));
    const merges = Array.isArray(model.merges) ? model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : String(m))) : [];
    entries.push(gguf.array('tokenizer.ggml.merges', VT.STRING, merges));
  }
  const unkId = unk === undefined ? undefined : tokens.indexOf(unk);
  if (unkId !== undefined && unkId >= 0) entries.push(gguf.u32('tokenizer.ggml.unknown_token_id', unkId));
  entries.push(...specialIds(config));
  return { entries, warnings };
}
