import type { TensorInfo } from '../tensor/TensorInfo';
import type { Inference } from './FieldResolver';

/** What Hugging Face-named weights show about the architecture, for fields a config leaves out. */
export interface TensorHints {
  readonly vocabSize?: Inference;
  readonly numLayers?: Inference;
  readonly intermediateSize?: Inference;
  readonly experts?: Inference;
  readonly expertIntermediateSize?: Inference;
  /** Rows of layer 0's key projection: KV heads × head width. */
  readonly keyRows?: Inference;
  /** True when there are weights and no separate output head among them. */
  readonly tied?: boolean;
  readonly parameters: number | undefined;
}

const EMBEDDINGS = ['model.embed_tokens.weight', 'transformer.wte.weight', 'model.language_model.embed_tokens.weight', 'tok_embeddings.weight', 'transformer.word_embeddings.weight', 'gpt_neox.embed_in.weight'];
const HEADS = ['lm_head.weight', 'output.weight', 'embed_out.weight'];

function rows(t: TensorInfo | undefined, what: string): Inference | undefined {
  return t && t.shape.length >= 2 ? { value: t.shape[0], from: `${t.name} shape [${t.shape.join(', ')}] (${what})` } : undefined;
}

/** Reads the hints from tensor names and shapes only (`layers.N.`, `experts.N.`, projection shapes). */
export function hfTensorHints(tensors: readonly TensorInfo[] | undefined): TensorHints {
  if (!tensors || tensors.length === 0) return { parameters: undefined };
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const embedding = EMBEDDINGS.map((n) => byName.get(n)).find((t) => t !== undefined);
  let maxLayer = -1;
  const experts = new Set<number>();
  let layerTensor = '';
  for (const t of tensors) {
    const layer = /(?:^|\.)(?:layers|h|blocks)\.(\d+)\./.exec(t.name);
    if (layer && Number(layer[1]) > maxLayer) {
      maxLayer = Number(layer[1]);
      layerTensor = t.name;
    }
    const expert = /\.experts\.(\d+)\./.exec(t.name);
    if (expert) experts.add(Number(expert[1]));
  }
  const find = (re: RegExp): TensorInfo | undefined => tensors.find((t) => re.test(t.name));
  const gate = find(/layers\.\d+\.mlp\.(gate_proj|up_proj|fc1|dense_h_to_4h|c_fc)\.weight$/);
  const expert = find(/\.experts\.0\.(gate_proj|w1|up_proj)\.weight$/);
  // Fused expert tensors ([experts, 2 × width, hidden]) carry the count in their first dimension.
  const fused = find(/\.experts\.gate_up_proj$/);
  const key = find(/layers\.0\.(self_attn|attention|attn)\.(k_proj|wk)\.weight$/);
  return {
    vocabSize: rows(embedding, 'token embedding rows'),
    numLayers: maxLayer >= 0 ? { value: maxLayer + 1, from: `layer indices in tensor names (last: ${layerTensor})` } : undefined,
    intermediateSize: rows(gate, 'MLP width'),
    experts: experts.size > 0 ? { value: experts.size, from: `experts.N. tensors (${experts.size} distinct)` } : fused ? { value: fused.shape[0], from: `${fused.name} shape [${fused.shape.join(', ')}]` } : undefined,
    expertIntermediateSize: rows(expert, 'expert width'),
    keyRows: rows(key, 'KV heads × head width'),
    tied: embedding !== undefined && !HEADS.some((n) => byName.has(n)),
    parameters: tensors.reduce((s, t) => s + t.elements, 0),
  };
}
