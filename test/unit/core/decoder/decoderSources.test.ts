import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { findWeightTargets } from '../../../../src/core/onnx/rewrite/weightTargets';
import { OnnxModel } from '../../../../src/core/onnx/OnnxModel';
import { fixture } from '../../support/paths';
import { DecoderRunner, reference, relativeError } from './decoderRuns';

async function logitsOf(path: string, tokens: readonly number[]): Promise<Float32Array> {
  const source = await openDecoderSource(path);
  const runner = await DecoderRunner.open(await buildDecoder(source), source.config);
  try {
    return (await runner.step([tokens], runner.emptyCache(), 0)).logits;
  } finally {
    await runner.release();
  }
}

test('the GGUF source and the sharded safetensors source of the same weights give equal logits', async () => {
  const tokens = reference('llama_gqa').tokens;
  const fromSafetensors = await logitsOf(fixture('decoder', 'llama_gqa'), tokens);
  const fromGguf = await logitsOf(fixture('decoder', 'llama_gqa.gguf'), tokens);
  assert.ok(relativeError(fromGguf, fromSafetensors) < 1e-6);
});

test('the GGUF source reads llama.* metadata, llama3 scaling from rope_freqs, and the tied/untied head from output.weight', async () => {
  const gguf = await openDecoderSource(fixture('decoder', 'llama_gqa.gguf'));
  const hf = await openDecoderSource(fixture('decoder', 'llama_gqa'));
  assert.equal(gguf.format, 'gguf');
  assert.equal(gguf.naming, 'gguf');
  const { ropeScaling, rmsNormEps, ...rest } = gguf.config;
  const { ropeScaling: hfScaling, rmsNormEps: hfEps, ...hfRest } = hf.config;
  assert.deepEqual({ ...rest, maxPositionEmbeddings: 0 }, { ...hfRest, maxPositionEmbeddings: 0 });
  assert.ok(Math.abs(rmsNormEps - hfEps) < 1e-10);
  assert.equal(ropeScaling?.type, 'factors');
  assert.equal(hfScaling?.type, 'llama3');
});

test('a folder with a single GGUF and no config.json opens that GGUF', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'decoder-gguf-'));
  try {
    await copyFile(fixture('decoder', 'qwen2_q8.gguf'), join(dir, 'model.gguf'));
    const source = await openDecoderSource(dir);
    assert.equal(source.format, 'gguf');
    assert.deepEqual(source.files, [join(dir, 'model.gguf')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every way of naming a Hugging Face folder opens the same source', async () => {
  const folder = fixture('decoder', 'llama_gqa');
  for (const path of [folder, join(folder, 'config.json'), join(folder, 'model.safetensors.index.json'), join(folder, 'model-00001-of-00002.safetensors')]) {
    const s = await openDecoderSource(path);
    assert.equal(s.config.numKvHeads, 2, path);
    // A shard named directly stands for the model its index lists.
    assert.deepEqual(s.files.map((f) => f.slice(folder.length + 1)), ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'], path);
  }
});

test('one graph serves a chunked prefill after a cache, and padded batches through attention_mask', async () => {
  const source = await openDecoderSource(fixture('decoder', 'mistral'));
  const ref = reference('mistral');
  const vocab = source.config.vocabSize;
  const runner = await DecoderRunner.open(await buildDecoder(source), source.config);
  try {
    // Five tokens at once, then the last three at once after them.
    const first = await runner.step([ref.tokens.slice(0, 5)], runner.emptyCache(), 0);
    const second = await runner.step([ref.tokens.slice(5)], first.cache, 5);
    assert.ok(relativeError(first.logits, ref.logits.slice(0, 5).flat()) < 1e-4);
    assert.ok(relativeError(second.logits, ref.logits.slice(5).flat()) < 1e-4);

    // A batch of two: the second sequence is three tokens shorter and left-padded.
    const pad = 3;
    const short = ref.tokens.slice(0, ref.tokens.length - pad);
    const ids = [ref.tokens, [...Array.from({ length: pad }, () => 0), ...short]];
    const mask = [ref.tokens.map(() => 1), ids[1].map((_, j) => (j < pad ? 0 : 1))];
    const positions = [ref.tokens.map((_, j) => j), ids[1].map((_, j) => Math.max(0, j - pad))];
    const batch = await runner.step(ids, runner.emptyCache(2), 0, { mask, positions });
    const seq = ref.tokens.length;
    assert.ok(relativeError(batch.logits.subarray(0, seq * vocab), ref.logits.flat()) < 1e-4);
    const padded = batch.logits.subarray(seq * vocab + pad * vocab, 2 * seq * vocab);
    assert.ok(relativeError(padded, ref.logits.slice(0, short.length).flat()) < 1e-4);
  } finally {
    await runner.release();
  }
});

test('the graph declares the GenAI / Optimum names, and every projection is a MatMul with a constant [in, out] weight', async () => {
  const source = await openDecoderSource(fixture('decoder', 'qwen2'));
  const model = await buildDecoder(source);
  const c = source.config;
  const inputs = (model.graph.input ?? []).map((v) => v.name);
  const outputs = (model.graph.output ?? []).map((v) => v.name);
  assert.deepEqual(inputs.slice(0, 3), ['input_ids', 'attention_mask', 'position_ids']);
  assert.deepEqual(inputs.slice(3), ['past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
  assert.deepEqual(outputs, ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
  const { targets, skipped } = findWeightTargets(model);
  assert.equal(skipped.length, 0);
  assert.equal(targets.length, 7 * c.numLayers + 1);
  const q = targets.find((t) => t.layer === 'model.layers.0.self_attn.q_proj');
  assert.ok(q);
  assert.equal(q.transposed, false);
  assert.equal(q.inFeatures, c.hiddenSize);
  assert.equal(q.outFeatures, c.numHeads * c.headDim);
  // The tied head is a weight of its own, so quantizing it leaves the embedding exact.
  assert.ok(targets.some((t) => t.layer === 'lm_head' && t.inFeatures === c.hiddenSize && t.outFeatures === c.vocabSize));
});

test('saved with external data, the decoder loads from its file and gives the same logits', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'decoder-'));
  try {
    const source = await openDecoderSource(fixture('decoder', 'llama'));
    const target = join(dir, 'model.onnx');
    const progress: number[] = [];
    const model = await buildDecoder(source, { onProgress: (done, total) => progress.push(done / total) });
    // One report per tensor read, ending at the whole.
    assert.equal(progress.length, 3 + 9 * source.config.numLayers);
    assert.ok(progress.every((p, i) => i === 0 || p > progress[i - 1]));
    assert.equal(progress[progress.length - 1], 1);
    const saved = await model.save(target, { externalData: 'always' });
    assert.ok(saved.dataPath !== undefined && (saved.dataBytes ?? 0) > 0.9 * source.float32Bytes);
    assert.ok((await OnnxModel.load(target)).hasExternalData());
    const ref = reference('llama');
    const runner = await DecoderRunner.open(target, source.config);
    try {
      const out = await runner.step([ref.tokens], runner.emptyCache(), 0);
      assert.ok(relativeError(out.logits, ref.logits.flat()) < 1e-4);
    } finally {
      await runner.release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a Qwen2 GGUF in Q8_0 is read dequantized, with its biases, its tied head and no Q/K permutation', async () => {
  const source = await openDecoderSource(fixture('decoder', 'qwen2_q8.gguf'));
  assert.equal(source.config.modelType, 'qwen2');
  assert.equal(source.config.attentionBias, true);
  assert.equal(source.config.tieWordEmbeddings, true);
  assert.equal(source.tensor('model.layers.0.self_attn.q_proj.weight')?.dtype, 'GGML_Q8_0');
  assert.equal(source.tensor('model.layers.0.self_attn.q_proj.bias')?.dtype, 'F32');
  // Q8_0 rounds each weight to 1/127 of its block's absmax: close to the bfloat16 safetensors, not equal.
  const q8 = await logitsOf(fixture('decoder', 'qwen2_q8.gguf'), reference('qwen2').tokens);
  const bf16 = await logitsOf(fixture('decoder', 'qwen2'), reference('qwen2').tokens);
  const err = relativeError(q8, bf16);
  assert.ok(err > 1e-5 && err < 0.05, `Q8_0 against bfloat16: ${err}`);
});

test("the graph's own semantics give the reference logits, without ONNX Runtime's fusions", async () => {
  const source = await openDecoderSource(fixture('decoder', 'llama_gqa'));
  const ref = reference('llama_gqa');
  const runner = await DecoderRunner.open(await buildDecoder(source), source.config, 'disabled');
  try {
    const out = await runner.step([ref.tokens], runner.emptyCache(), 0);
    assert.ok(relativeError(out.logits, ref.logits.flat()) < 1e-4);
  } finally {
    await runner.release();
  }
});

test("Meta's consolidated.00.pth with params.json: torch storages, Meta names, vocabulary counted from the embedding", async () => {
  const source = await openDecoderSource(fixture('decoder', 'meta_pth'));
  assert.equal(source.format, 'pytorch');
  assert.equal(source.naming, 'meta');
  assert.equal(source.config.vocabSize, 128);
  assert.equal(source.config.intermediateSize, 96);
  assert.equal(source.tensor('model.layers.0.self_attn.q_proj.weight')?.dtype, 'F16');
  assert.ok(source.files.some((f) => f.endsWith('params.json')) && source.files.some((f) => f.endsWith('consolidated.00.pth')));
});
