import { totalmem } from 'node:os';
import { FormatError } from '../FormatError';
import { Attr, type OnnxModel } from '../onnx/OnnxModel';
import { ElementType } from '../onnx/onnxMessages';
import { transposeWeight } from '../quant/transposeWeight';
import { formatBytes } from '../tensor/formatBytes';
import type { DecoderConfig } from './DecoderConfig';
import type { DecoderSource } from './DecoderSource';
import { GraphWriter } from './GraphWriter';
import { ropeFrequencies } from './ropeFrequencies';

/** The default opset: ReduceMean still takes `axes` as an attribute, everything else is current. */
export const DECODER_OPSET = 17;
/** The mask's value for a forbidden key, as Transformers uses: the lowest float32. */
const MASKED = -3.4028234663852886e38;

/** Options for {@link buildDecoder}. */
export interface BuildDecoderOptions {
  /** Memory the build may use; larger models are refused before any weight is read. Default: 80% of RAM. */
  readonly memoryLimitBytes?: number;
  /** Where {@link memoryLimitBytes} comes from, named in the refusal (default: 80% of RAM). */
  readonly memoryLimitOrigin?: string;
  /** Called after each tensor is written, with the count done and the total. */
  readonly onProgress?: (done: number, total: number, tensor: string) => void;
}

/** Names of the graph's inputs and outputs for layer `i`, as ONNX Runtime GenAI and Optimum name them. */
export function kvCacheNames(i: number): { pastKey: string; pastValue: string; presentKey: string; presentValue: string } {
  return { pastKey: `past_key_values.${i}.key`, pastValue: `past_key_values.${i}.value`, presentKey: `present.${i}.key`, presentValue: `present.${i}.value` };
}

/** Bytes a build of `source` holds at its peak: the float32 weights twice (read and encoded), plus a tied head's copy. */
export function decoderBuildBytes(source: DecoderSource): number {
  const c = source.config;
  return 2 * (source.float32Bytes + (c.tieWordEmbeddings ? c.vocabSize * c.hiddenSize * 4 : 0));
}

class DecoderBuilder {
  private done = 0;
  private readonly total: number;

  constructor(
    private readonly g: GraphWriter,
    private readonly source: DecoderSource,
    private readonly c: DecoderConfig,
    private readonly onProgress: BuildDecoderOptions['onProgress'],
  ) {
    this.total = 2 + c.numLayers * (c.attentionBias ? 12 : 9) + (c.tieWordEmbeddings ? 0 : 1);
  }

  private async read(name: string): Promise<Float32Array> {
    const v = await this.source.read(name);
    this.onProgress?.(++this.done, this.total, name);
    return v;
  }

  /** `x · Wᵀ (+ b)` with W [out, in] stored transposed as the MatMul's [in, out] initializer. */
  private async linear(x: string, module: string, outFeatures: number, inFeatures: number, bias: boolean): Promise<string> {
    const w = await this.read(`${module}.weight`);
    const weight = this.g.weight(`${module}.weight`, [inFeatures, outFeatures], transposeWeight(w, outFeatures, inFeatures));
    const y = this.g.op('MatMul', [x, weight], { name: module });
    if (!bias) return y;
    const b = this.g.weight(`${module}.bias`, [outFeatures], await this.read(`${module}.bias`));
    return this.g.op('Add', [y, b], { name: `${module}/bias` });
  }

  /** RMSNorm from primitives in the pattern ONNX Runtime fuses into SimplifiedLayerNormalization. */
  private async rmsNorm(x: string, module: string): Promise<string> {
    const g = this.g;
    const scope = g.scope;
    g.scope = module;
    const w = g.weight(`${module}.weight`, [this.c.hiddenSize], await this.read(`${module}.weight`));
    const sq = g.op('Pow', [x, g.float([2], [])]);
    const mean = g.op('ReduceMean', [sq], { attrs: [Attr.ints('axes', [-1]), Attr.int('keepdims', 1)] });
    const std = g.op('Sqrt', [g.op('Add', [mean, g.float([this.c.rmsNormEps], [])])]);
    const y = g.op('Mul', [g.op('Div', [x, std]), w]);
    g.scope = scope;
    return y;
  }

  /** cos and sin [batch, 1, seq, head_dim] of the rotary angles position · frequency. */
  private rotaryTables(): { cos: string; sin: string } {
    const g = this.g;
    g.scope = 'model/rotary_emb';
    const inv = g.weight('model.rotary_emb.inv_freq', [this.c.headDim / 2], Float32Array.from(ropeFrequencies(this.c)));
    const pos = g.unsqueeze(g.op('Cast', ['position_ids'], { attrs: [Attr.int('to', ElementType.FLOAT)] }), [-1]);
    const freqs = g.op('Mul', [pos, inv]);
    const emb = g.op('Concat', [freqs, freqs], { attrs: [Attr.int('axis', -1)] });
    return { cos: g.unsqueeze(g.op('Cos', [emb]), [1]), sin: g.unsqueeze(g.op('Sin', [emb]), [1]) };
  }

  /**
   * The additive attention bias [batch, 1, 1, seq, total]: 0 where query i (at cache position
   * past + i) may see key j, the lowest float elsewhere. Causal, within the sliding window when
   * there is one, and only keys whose attention_mask is 1.
   */
  private attentionBias(): string {
    const g = this.g;
    g.scope = 'model/attn_mask';
    const one = g.int64([1], []);
    const total = g.op('Gather', [g.op('Shape', ['attention_mask']), one], { attrs: [Attr.int('axis', 0)] });
    const seq = g.op('Gather', [g.op('Shape', ['input_ids']), one], { attrs: [Attr.int('axis', 0)] });
    const past = g.op('Sub', [total, seq]);
    const keys = g.op('Range', [g.int64([0], []), total, one]);
    const queries = g.unsqueeze(g.op('Range', [past, total, one]), [1]);
    let allowed = g.op('LessOrEqual', [keys, queries]);
    if (this.c.slidingWindow !== undefined) {
      const oldest = g.op('Sub', [queries, g.int64([this.c.slidingWindow], [])]);
      allowed = g.op('And', [allowed, g.op('Greater', [keys, oldest])]);
    }
    const padding = g.unsqueeze(g.op('Cast', ['attention_mask'], { attrs: [Attr.int('to', ElementType.BOOL)] }), [1]);
    allowed = g.op('And', [allowed, padding]);
    const bias = g.op('Where', [allowed, g.float([0], []), g.float([MASKED], [])]);
    return g.unsqueeze(bias, [1, 2]);
  }

  /** Rotary embedding of x [batch, heads, seq, head_dim] in the rotate-half layout. */
  private rotate(x: string, cos: string, sin: string): string {
    const g = this.g;
    const half = this.c.headDim / 2;
    const x1 = g.op('Slice', [x, g.int64([0]), g.int64([half]), g.int64([-1])]);
    const x2 = g.op('Slice', [x, g.int64([half]), g.int64([this.c.headDim]), g.int64([-1])]);
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { attrs: [Attr.int('axis', -1)] });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  }

  private async attention(i: number, x: string, cos: string, sin: string, bias: string): Promise<string> {
    const g = this.g;
    const c = this.c;
    const module = `model.layers.${i}.self_attn`;
    const h = c.hiddenSize;
    const d = c.headDim;
    const groups = c.numHeads / c.numKvHeads;
    const names = kvCacheNames(i);
    const heads = async (proj: string, n: number): Promise<string> => {
      const y = await this.linear(x, `${module}.${proj}`, n * d, h, c.attentionBias);
      g.scope = module;
      return g.transpose(g.reshape(y, [0, 0, n, d]), [0, 2, 1, 3]);
    };
    const q = this.rotate(await heads('q_proj', c.numHeads), cos, sin);
    const k = this.rotate(await heads('k_proj', c.numKvHeads), cos, sin);
    const v = await heads('v_proj', c.numKvHeads);
    g.scope = module;
    const keys = g.op('Concat', [names.pastKey, k], { attrs: [Attr.int('axis', 2)], output: names.presentKey });
    const values = g.op('Concat', [names.pastValue, v], { attrs: [Attr.int('axis', 2)], output: names.presentValue });
    // Grouped-query attention without copying keys: queries [b, kv, groups, seq, d] broadcast
    // against keys [b, kv, 1, total, d] in MatMul.
    const qg = g.op('Mul', [g.reshape(q, [0, c.numKvHeads, groups, -1, d]), g.float([1 / Math.sqrt(d)], [])]);
    const kt = g.transpose(g.unsqueeze(keys, [2]), [0, 1, 2, 4, 3]);
    const scores = g.op('Add', [g.op('MatMul', [qg, kt]), bias]);
    const probs = g.op('Softmax', [scores], { attrs: [Attr.int('axis', -1)] });
    const ctx = g.op('MatMul', [probs, g.unsqueeze(values, [2])]);
    const merged = g.reshape(g.transpose(g.reshape(ctx, [0, c.numHeads, -1, d]), [0, 2, 1, 3]), [0, 0, c.numHeads * d]);
    return this.linear(merged, `${module}.o_proj`, h, c.numHeads * d, false);
  }

  private async mlp(i: number, x: string): Promise<string> {
    const g = this.g;
    const c = this.c;
    const module = `model.layers.${i}.mlp`;
    const gate = await this.linear(x, `${module}.gate_proj`, c.intermediateSize, c.hiddenSize, false);
    const up = await this.linear(x, `${module}.up_proj`, c.intermediateSize, c.hiddenSize, false);
    g.scope = module;
    const act = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
    return this.linear(g.op('Mul', [act, up]), `${module}.down_proj`, c.hiddenSize, c.intermediateSize, false);
  }

  async build(): Promise<OnnxModel> {
    const g = this.g;
    const c = this.c;
    const kvShape = ['batch_size', c.numKvHeads, 'past_sequence_length', c.headDim];
    g.input('input_ids', ElementType.INT64, ['batch_size', 'sequence_length']);
    g.input('attention_mask', ElementType.INT64, ['batch_size', 'total_sequence_length']);
    g.input('position_ids', ElementType.INT64, ['batch_size', 'sequence_length']);
    for (let i = 0; i < c.numLayers; i++) {
      const n = kvCacheNames(i);
      g.input(n.pastKey, ElementType.FLOAT, kvShape);
      g.input(n.pastValue, ElementType.FLOAT, kvShape);
    }
    const embedding = await this.read('model.embed_tokens.weight');
    g.weight('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize], embedding);
    let x = g.op('Gather', ['model.embed_tokens.weight', 'input_ids'], { name: 'model.embed_tokens' });
    const { cos, sin } = this.rotaryTables();
    const bias = this.attentionBias();
    for (let i = 0; i < c.numLayers; i++) {
      const layer = `model.layers.${i}`;
      const attn = await this.attention(i, await this.rmsNorm(x, `${layer}.input_layernorm`), cos, sin, bias);
      g.scope = layer;
      x = g.op('Add', [x, attn]);
      const mlp = await this.mlp(i, await this.rmsNorm(x, `${layer}.post_attention_layernorm`));
      g.scope = layer;
      x = g.op('Add', [x, mlp]);
    }
    const normed = await this.rmsNorm(x, 'model.norm');
    let head: Float32Array;
    if (c.tieWordEmbeddings) head = transposeWeight(embedding, c.vocabSize, c.hiddenSize);
    else head = transposeWeight(await this.read('lm_head.weight'), c.vocabSize, c.hiddenSize);
    g.weight('lm_head.weight', [c.hiddenSize, c.vocabSize], head);
    g.op('MatMul', [normed, 'lm_head.weight'], { name: 'lm_head', output: 'logits' });
    g.output('logits', ElementType.FLOAT, ['batch_size', 'sequence_length', c.vocabSize]);
    for (let i = 0; i < c.numLayers; i++) {
      const n = kvCacheNames(i);
      g.output(n.presentKey, ElementType.FLOAT, ['batch_size', c.numKvHeads, 'total_sequence_length', c.headDim]);
      g.output(n.presentValue, ElementType.FLOAT, ['batch_size', c.numKvHeads, 'total_sequence_length', c.headDim]);
    }
    const m = g.model;
    m.setMetadata('quantscope.decoder', JSON.stringify({
      model_type: c.modelType, source_format: this.source.format, naming: this.source.naming,
      hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers,
      num_attention_heads: c.numHeads, num_key_value_heads: c.numKvHeads, head_dim: c.headDim, vocab_size: c.vocabSize,
      rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta, rope_scaling: c.ropeScaling?.type ?? null,
      sliding_window: c.slidingWindow ?? null, tie_word_embeddings: c.tieWordEmbeddings, max_position_embeddings: c.maxPositionEmbeddings,
    }));
    return m;
  }
}

/**
 * Builds a decoder-only ONNX model (float32, opset {@link DECODER_OPSET}) from a decoder source:
 * token embedding, RMSNorm, rotary embedding, multi-head / grouped-query / multi-query attention
 * with a causal mask and a KV cache, SwiGLU MLP, final norm and output head. Inputs `input_ids`,
 * `attention_mask`, `position_ids` and `past_key_values.N.key|value`; outputs `logits` and
 * `present.N.key|value`, so one graph serves prefill (past length 0) and decoding. Projection
 * weights are MatMul initializers [in, out] named after the Hugging Face tensor, so the
 * quantizers see every projection as a layer. Nothing is written: save the returned model with
 * {@link OnnxModel.save}, which puts weights beyond 2 GB into external data.
 */
export async function buildDecoder(source: DecoderSource, options: BuildDecoderOptions = {}): Promise<OnnxModel> {
  const limit = options.memoryLimitBytes ?? Math.floor(totalmem() * 0.8);
  const need = decoderBuildBytes(source);
  if (need > limit) {
    const origin = options.memoryLimitBytes === undefined ? '' : options.memoryLimitOrigin ? ` (${options.memoryLimitOrigin})` : '';
    throw new FormatError(
      `building this ${source.config.modelType} decoder needs about ${formatBytes(need)} of memory (its weights take ${formatBytes(source.float32Bytes)} as float32), more than the ${formatBytes(limit)} available${origin}`,
      { format: 'decoder' },
    );
  }
  const g = GraphWriter.create(DECODER_OPSET, `${source.config.modelType}_decoder`);
  return new DecoderBuilder(g, source, source.config, options.onProgress).build();
}
