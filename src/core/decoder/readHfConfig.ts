import { ConfigFields } from './ConfigFields';
import { DECODER_FAMILIES, type DecoderConfig, type DecoderFamily, type RopeScaling } from './DecoderConfig';
import { validateDecoderConfig } from './validateDecoderConfig';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFamily(v: string): v is DecoderFamily {
  return (DECODER_FAMILIES as readonly string[]).includes(v);
}

function ropeScaling(f: ConfigFields): RopeScaling | undefined {
  const raw = f.raw('rope_scaling');
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) throw f.fail(`rope_scaling must be an object, not ${JSON.stringify(raw)}`);
  const r = new ConfigFields(`${f.file} rope_scaling`, raw);
  // Transformers renamed `type` to `rope_type`; configs in the wild carry either.
  const kind = r.string('rope_type') ?? r.string('type') ?? 'default';
  switch (kind) {
    case 'default': return undefined;
    case 'linear': return { type: 'linear', factor: r.positive('factor') };
    case 'llama3':
      return {
        type: 'llama3',
        factor: r.positive('factor'),
        lowFreqFactor: r.positive('low_freq_factor'),
        highFreqFactor: r.positive('high_freq_factor'),
        originalMaxPositionEmbeddings: r.int('original_max_position_embeddings'),
      };
    default:
      throw f.fail(`rope_scaling type "${kind}" is not supported (linear and llama3 are)`);
  }
}

/**
 * Reads a Hugging Face `config.json` (already parsed) of a Llama, Mistral or Qwen2 model. `file`
 * names it in messages. Throws {@link FormatError} naming the `model_type` or the field at fault.
 */
export function readHfConfig(json: unknown, file = 'config.json'): DecoderConfig {
  if (!isRecord(json)) throw new ConfigFields(file, {}).fail('is not a JSON object');
  const f = new ConfigFields(file, json);
  const modelType = f.string('model_type');
  if (modelType === undefined) throw f.fail('has no model_type; expected one of llama, mistral, qwen2');
  if (!isFamily(modelType)) throw f.fail(`model_type "${modelType}" is not supported: decoders are built for ${DECODER_FAMILIES.join(', ')}`);
  const act = f.string('hidden_act') ?? 'silu';
  if (act !== 'silu') throw f.fail(`hidden_act "${act}" is not supported; the ${modelType} MLP is built with silu`);
  if (f.bool('mlp_bias', false)) throw f.fail('mlp_bias is true, which is not supported');
  const hiddenSize = f.int('hidden_size');
  const numHeads = f.int('num_attention_heads');
  if (!f.has('head_dim') && hiddenSize % numHeads !== 0) {
    throw f.fail(`hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}, and there is no head_dim`);
  }
  let slidingWindow: number | undefined;
  if (modelType === 'mistral' && f.has('sliding_window')) slidingWindow = f.int('sliding_window');
  if (modelType === 'qwen2' && f.bool('use_sliding_window', false)) {
    throw f.fail('use_sliding_window is true; Qwen2 sliding-window attention (per-layer windows) is not supported');
  }
  return validateDecoderConfig({
    modelType,
    hiddenSize,
    intermediateSize: f.int('intermediate_size'),
    numLayers: f.int('num_hidden_layers'),
    numHeads,
    numKvHeads: f.int('num_key_value_heads', numHeads),
    headDim: f.int('head_dim', hiddenSize / numHeads),
    vocabSize: f.int('vocab_size'),
    rmsNormEps: f.positive('rms_norm_eps', 1e-6),
    ropeTheta: f.positive('rope_theta', 10000),
    ropeScaling: ropeScaling(f),
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    attentionBias: modelType === 'qwen2' || f.bool('attention_bias', false),
    slidingWindow,
    maxPositionEmbeddings: f.int('max_position_embeddings', 2048),
  }, (m) => f.fail(m));
}
