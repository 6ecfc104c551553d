import { basename } from 'node:path';
import { FormatError } from '../FormatError';
import type { Checkpoint } from '../formats/Checkpoint';
import { readTensor } from '../tensor/TensorReader';
import { ConfigFields } from './ConfigFields';
import type { DecoderConfig, RopeScaling } from './DecoderConfig';
import { validateDecoderConfig } from './validateDecoderConfig';

/** llama.cpp architectures whose weights this builder reads, with the family they map to. */
const GGUF_ARCHITECTURES: Readonly<Record<string, DecoderConfig['modelType']>> = { llama: 'llama', qwen2: 'qwen2' };

/**
 * The architecture of a GGUF file from its `<arch>.*` metadata (llama.cpp's keys:
 * `embedding_length`, `block_count`, `feed_forward_length`, `attention.head_count[_kv]`, …).
 * Llama 3 scaling is read from the `rope_freqs` tensor llama.cpp's converter writes.
 */
export async function readGgufConfig(checkpoint: Checkpoint): Promise<DecoderConfig> {
  const file = basename(checkpoint.path);
  const md = checkpoint.metadata;
  const arch = md['general.architecture'];
  const fail = (message: string): FormatError => new FormatError(`${file}: ${message}`, { format: 'gguf' });
  if (typeof arch !== 'string') throw fail('has no general.architecture; a decoder needs llama.* metadata');
  const modelType = GGUF_ARCHITECTURES[arch];
  if (modelType === undefined) throw fail(`architecture "${arch}" is not supported: decoders are built from ${Object.keys(GGUF_ARCHITECTURES).join(', ')} GGUF files`);
  const prefix = `${arch}.`;
  if (!Object.keys(md).some((k) => k.startsWith(prefix))) throw fail(`general.architecture is ${arch} but there are no ${prefix}* keys`);
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(md)) if (k.startsWith(prefix)) values[k.slice(prefix.length)] = v;
  const f = new ConfigFields(`${file} ${arch}.*`, values, 'gguf');
  const hiddenSize = f.int('embedding_length');
  const numHeads = f.int('attention.head_count');
  const embedding = checkpoint.tensors.find((t) => t.name === 'token_embd.weight');
  const tokens = md['tokenizer.ggml.tokens'];
  const vocabSize = f.has('vocab_size') ? f.int('vocab_size') : embedding?.shape[0] ?? (Array.isArray(tokens) ? tokens.length : undefined);
  if (vocabSize === undefined) throw fail('has no vocab_size, token embedding or tokenizer tokens to take the vocabulary size from');
  const headDim = f.int('attention.key_length', f.int('rope.dimension_count', Math.floor(hiddenSize / numHeads)));
  if (!f.has('attention.key_length') && !f.has('rope.dimension_count') && hiddenSize % numHeads !== 0) {
    throw f.fail(`embedding_length ${hiddenSize} is not a multiple of attention.head_count ${numHeads}`);
  }
  let ropeScaling: RopeScaling | undefined;
  const scalingType = f.string('rope.scaling.type') ?? 'none';
  if (scalingType === 'linear') ropeScaling = { type: 'linear', factor: f.positive('rope.scaling.factor') };
  else if (scalingType !== 'none') throw f.fail(`rope.scaling.type "${scalingType}" is not supported (none and linear are)`);
  const freqs = checkpoint.tensors.find((t) => t.name === 'rope_freqs.weight');
  if (freqs) {
    if (ropeScaling) throw fail('has both rope.scaling.type and a rope_freqs tensor');
    if (freqs.elements !== headDim / 2) throw fail(`rope_freqs has ${freqs.elements} values; head width ${headDim} needs ${headDim / 2}`);
    ropeScaling = { type: 'factors', factors: Array.from(await readTensor(freqs)) };
  }
  return validateDecoderConfig({
    modelType,
    hiddenSize,
    intermediateSize: f.int('feed_forward_length'),
    numLayers: f.int('block_count'),
    numHeads,
    numKvHeads: f.int('attention.head_count_kv', numHeads),
    headDim,
    vocabSize,
    rmsNormEps: f.positive('attention.layer_norm_rms_epsilon', 1e-5),
    ropeTheta: f.positive('rope.freq_base', 10000),
    ropeScaling,
    // llama.cpp's converter drops output.weight when the head is tied to the embedding.
    tieWordEmbeddings: !checkpoint.tensors.some((t) => t.name === 'output.weight'),
    attentionBias: modelType === 'qwen2',
    slidingWindow: undefined,
    maxPositionEmbeddings: f.int('context_length', 2048),
  }, (m) => f.fail(m));
}
