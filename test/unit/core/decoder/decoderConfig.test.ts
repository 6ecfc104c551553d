import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDecoderSource, readHfConfig, ropeFrequencies } from '../../../../src/core/decoder';
import { metaFeedForwardDim } from '../../../../src/core/decoder/readMetaParams';
import { unpermuteRotary } from '../../../../src/core/decoder/unpermuteRotary';
import { isFormatError } from '../../../../src/core/FormatError';
import { fixture } from '../../support/paths';

const LLAMA = { model_type: 'llama', hidden_size: 64, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 8, vocab_size: 100 };

test('config.json defaults: KV heads, head_dim, eps, theta, untied head, no scaling', () => {
  const c = readHfConfig({ ...LLAMA, rope_scaling: { rope_type: 'default' } });
  assert.equal(c.numKvHeads, 8);
  assert.equal(c.headDim, 8);
  assert.equal(c.rmsNormEps, 1e-6);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.ropeScaling, undefined);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.attentionBias, false);
  assert.equal(c.slidingWindow, undefined);
});

test('config.json: explicit head_dim, legacy rope_scaling "type", Qwen2 biases, Mistral windows', () => {
  assert.equal(readHfConfig({ ...LLAMA, head_dim: 16 }).headDim, 16);
  assert.deepEqual(readHfConfig({ ...LLAMA, rope_scaling: { type: 'linear', factor: 4 } }).ropeScaling, { type: 'linear', factor: 4 });
  assert.equal(readHfConfig({ ...LLAMA, model_type: 'qwen2', sliding_window: 4096, use_sliding_window: false }).attentionBias, true);
  assert.equal(readHfConfig({ ...LLAMA, model_type: 'qwen2', sliding_window: 4096 }).slidingWindow, undefined);
  assert.equal(readHfConfig({ ...LLAMA, model_type: 'mistral', sliding_window: 4096 }).slidingWindow, 4096);
  assert.equal(readHfConfig({ ...LLAMA, model_type: 'mistral', sliding_window: null }).slidingWindow, undefined);
  assert.equal(readHfConfig({ ...LLAMA, attention_bias: true }).attentionBias, true);
  assert.throws(() => readHfConfig({ ...LLAMA, model_type: 'qwen2', use_sliding_window: true }), /use_sliding_window is true/);
  assert.throws(() => readHfConfig({ ...LLAMA, hidden_size: 60 }), /hidden_size 60 is not a multiple of num_attention_heads 8, and there is no head_dim/);
  assert.throws(() => readHfConfig({ ...LLAMA, mlp_bias: true }), (e: unknown) => isFormatError(e) && /mlp_bias/.test(e.message));
  assert.throws(() => readHfConfig([1, 2]), /config\.json: is not a JSON object/);
});

test("llama3 frequencies from config.json equal the ones llama.cpp's converter stored as rope_freqs divisors", async () => {
  const hf = await openDecoderSource(fixture('decoder', 'llama_gqa'));
  const gguf = await openDecoderSource(fixture('decoder', 'llama_gqa.gguf'));
  const fromConfig = ropeFrequencies(hf.config);
  const fromGguf = ropeFrequencies(gguf.config);
  const plain = ropeFrequencies({ ...hf.config, ropeScaling: undefined });
  // Short wavelengths are kept, long ones slowed by the factor, the band between blended.
  assert.equal(fromConfig[0], plain[0]);
  assert.ok(Math.abs(fromConfig[3] - plain[3] / 8) < 1e-18);
  assert.ok(fromConfig[1] < plain[1] && fromConfig[1] > plain[1] / 8);
  for (let i = 0; i < fromConfig.length; i++) assert.ok(Math.abs(fromGguf[i] / fromConfig[i] - 1) < 1e-6, `frequency ${i}`);
  const linear = ropeFrequencies({ headDim: 8, ropeTheta: 10000, ropeScaling: { type: 'linear', factor: 2 } });
  [0.5, 0.05, 0.005, 0.0005].forEach((f, i) => assert.ok(Math.abs(linear[i] / f - 1) < 1e-12, `linear frequency ${i}`));
});

test("unpermuteRotary inverts llama.cpp's Q/K row permutation, for weights and biases", () => {
  const heads = 3;
  const headDim = 6;
  const cols = 5;
  const rows = heads * headDim;
  const hf = Float32Array.from({ length: rows * cols }, (_, i) => i);
  // llama.cpp: reshape(heads, 2, headDim / 2, cols).swapaxes(1, 2): row (h, i, t) of the result is row (h, t, i) of the input.
  const permuted = new Float32Array(hf.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < headDim / 2; i++) {
      for (let t = 0; t < 2; t++) {
        const src = h * headDim + t * (headDim / 2) + i;
        const dst = h * headDim + i * 2 + t;
        permuted.set(hf.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  assert.notDeepEqual(permuted, hf);
  assert.deepEqual(unpermuteRotary(permuted, heads, cols), hf);
  const bias = Float32Array.from({ length: rows }, (_, i) => i);
  const permutedBias = Float32Array.from({ length: rows }, (_, r) => permuted[r * cols] / cols);
  assert.deepEqual(unpermuteRotary(permutedBias, heads, 1), bias);
});

test("Meta's feed-forward width follows its reference formula for released models", () => {
  assert.equal(metaFeedForwardDim(4096, 256, undefined), 11008); // Llama 2 7B
  assert.equal(metaFeedForwardDim(4096, 1024, 1.3), 14336); // Llama 3 8B
  assert.equal(metaFeedForwardDim(8192, 4096, 1.3), 28672); // Llama 2 70B
  assert.equal(metaFeedForwardDim(288, 32, undefined), 768); // llama2.c stories15M
});
