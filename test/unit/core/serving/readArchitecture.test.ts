import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildDecoder, openDecoderSource } from '../../../../src/core/decoder';
import { isFormatError } from '../../../../src/core/FormatError';
import { openArchitecture, planMemory, readConfigArchitecture } from '../../../../src/core/serving';
import { fixture } from '../../support/paths';

const BASE = { model_type: 'llama', hidden_size: 64, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 8, vocab_size: 100 };

test('a partial config names the missing field and the keys looked for', () => {
  const { num_attention_heads: _heads, ...noHeads } = BASE;
  void _heads;
  assert.throws(() => readConfigArchitecture(noHeads), (e: unknown) => isFormatError(e) && /^config\.json: num_attention_heads is missing \(looked for num_attention_heads, n_head, num_heads, n_heads\)/.test(e.message));
  const { vocab_size: _vocab, ...noVocab } = BASE;
  void _vocab;
  assert.throws(() => readConfigArchitecture(noVocab), /vocab_size is missing/);
  assert.throws(() => readConfigArchitecture({ ...BASE, num_hidden_layers: -2 }), /num_hidden_layers must be a positive integer, not -2/);
  assert.throws(() => readConfigArchitecture({ ...BASE, num_key_value_heads: 3 }), /8 attention heads cannot be shared evenly by 3 key\/value heads/);
  assert.throws(() => readConfigArchitecture({ ...BASE, num_local_experts: 4, num_experts_per_tok: 8 }), /8 experts per token, but there are only 4 experts/);
  assert.throws(() => readConfigArchitecture({ ...BASE, num_local_experts: 4 }), /num_experts_per_tok is missing/);
  assert.throws(() => readConfigArchitecture('text'), /config\.json: is not a JSON object/);
});

test('an unknown model_type is read when its fields are there, and the assumption is said', () => {
  const a = readConfigArchitecture({ ...BASE, model_type: 'newmodel', num_kv_heads: 2, max_seq_len: 1024 });
  assert.equal(a.modelType, 'newmodel');
  assert.deepEqual([a.numKvHeads, a.contextLength], [2, 1024]);
  assert.deepEqual(a.fields['numKvHeads'], { origin: 'read', from: 'num_kv_heads' });
  assert.ok(a.notes.some((n) => /model_type "newmodel" is not one Quantscope knows/.test(n)));
  // GPT-2's names, its ungated MLP of 4 × width, LayerNorm and biases.
  const gpt2 = readConfigArchitecture({ model_type: 'gpt2', n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, vocab_size: 50257, n_inner: null });
  assert.deepEqual([gpt2.hiddenSize, gpt2.numLayers, gpt2.intermediateSize, gpt2.gatedMlp, gpt2.layerNorm, gpt2.tieWordEmbeddings], [768, 12, 3072, false, true, true]);
  assert.deepEqual(gpt2.fields['intermediateSize'], { origin: 'default', from: '4 × hidden size' });
  // Multimodal configs nest the decoder under text_config.
  const nested = readConfigArchitecture({ model_type: 'llava', text_config: { ...BASE, model_type: 'llama' } });
  assert.equal(nested.hiddenSize, 64);
});

test('sliding-window layers follow each family: Qwen2 max_window_layers, Gemma 2 alternation, layer_types', () => {
  assert.equal(readConfigArchitecture({ ...BASE, model_type: 'qwen2', sliding_window: 32, use_sliding_window: false }).slidingLayers, 0);
  const qwen = readConfigArchitecture({ ...BASE, model_type: 'qwen2', num_hidden_layers: 28, sliding_window: 32, use_sliding_window: true, max_window_layers: 21 });
  assert.deepEqual([qwen.slidingWindow, qwen.slidingLayers], [32, 7]);
  assert.equal(readConfigArchitecture({ ...BASE, model_type: 'gemma2', num_hidden_layers: 26, sliding_window: 4096 }).slidingLayers, 13);
  const typed = readConfigArchitecture({ ...BASE, sliding_window: 16, layer_types: ['sliding_attention', 'full_attention'] });
  assert.deepEqual(typed.fields['slidingLayers'], { origin: 'read', from: 'layer_types' });
  const plan = planMemory(typed, { contextLength: 64, blockSize: 1 });
  // One layer keeps 64 tokens, the other the 16 of its window.
  assert.equal(plan.kv[0].bytesPerSequence, (64 + 16) * 2 * 8 * 8 * 2);
});

test('a model folder: the config is read, the weights are counted and fill what the config leaves out', async () => {
  const a = await openArchitecture(fixture('decoder', 'llama_gqa'));
  assert.deepEqual([a.numLayers, a.hiddenSize, a.numHeads, a.numKvHeads, a.headDim, a.vocabSize], [2, 32, 4, 2, 8, 128]);
  assert.equal(a.countedParameters, planMemory(a).parameters.total);
  assert.deepEqual(planMemory(a).warnings, []);
  const dir = await mkdtemp(join(tmpdir(), 'serving-arch-'));
  try {
    const { vocab_size: _v, num_key_value_heads: _k, num_hidden_layers: _l, ...partial } = { ...BASE, num_key_value_heads: 2, hidden_size: 32, num_attention_heads: 4, intermediate_size: 96, num_hidden_layers: 2, vocab_size: 128 };
    void [_v, _k, _l];
    const { copyFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'config.json'), JSON.stringify(partial));
    await copyFile(fixture('decoder', 'llama', 'model.safetensors'), join(dir, 'model.safetensors'));
    const inferred = await openArchitecture(join(dir, 'model.safetensors'));
    const full = await openArchitecture(fixture('decoder', 'llama'));
    assert.deepEqual([inferred.vocabSize, inferred.numKvHeads, inferred.numLayers], [full.vocabSize, full.numKvHeads, full.numLayers]);
    assert.equal(inferred.fields['vocabSize'].origin, 'inferred');
    assert.match(inferred.fields['vocabSize'].from, /^model\.embed_tokens\.weight shape \[/);
    assert.equal(inferred.fields['numLayers'].origin, 'inferred');
    assert.equal(inferred.fields['numKvHeads'].origin, 'inferred');
    // A bare config.json is enough, and nothing beside it is read.
    const bare = await openArchitecture(join(dir, 'config.json')).catch((e: unknown) => e);
    assert.ok(isFormatError(bare) && /num_hidden_layers is missing/.test(bare.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('GGUF metadata gives the architecture; the tensors give the vocabulary and tying', async () => {
  const gguf = await openArchitecture(fixture('decoder', 'llama_gqa.gguf'));
  const hf = await openArchitecture(fixture('decoder', 'llama_gqa'));
  assert.equal(gguf.source, 'gguf');
  for (const k of ['numLayers', 'hiddenSize', 'intermediateSize', 'numHeads', 'numKvHeads', 'headDim', 'vocabSize', 'tieWordEmbeddings', 'gatedMlp'] as const) assert.equal(gguf[k], hf[k], k);
  assert.deepEqual(gguf.fields['numKvHeads'], { origin: 'read', from: 'attention.head_count_kv' });
  assert.equal(gguf.fields['tieWordEmbeddings'].origin, 'inferred');
  assert.equal(planMemory(gguf).kv[0].bytesPerToken, planMemory(hf).kv[0].bytesPerToken);
  const qwen = await openArchitecture(fixture('decoder', 'qwen2_q8.gguf'));
  assert.deepEqual([qwen.modelType, qwen.qkvBias, qwen.tieWordEmbeddings], ['qwen2', true, true]);
});

test('an ONNX decoder: layers, KV heads and head width from its past-key inputs, sizes from its weights', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'serving-onnx-'));
  try {
    const source = await openDecoderSource(fixture('decoder', 'llama_gqa'));
    const model = join(dir, 'llama_gqa.onnx');
    await (await buildDecoder(source)).save(model);
    const onnx = await openArchitecture(model);
    const hf = await openArchitecture(fixture('decoder', 'llama_gqa'));
    for (const k of ['numLayers', 'hiddenSize', 'intermediateSize', 'numKvHeads', 'headDim', 'vocabSize', 'tieWordEmbeddings', 'gatedMlp'] as const) assert.equal(onnx[k], hf[k], k);
    assert.deepEqual(onnx.fields['numKvHeads'], { origin: 'inferred', from: 'past_key_values.0.key dimension 1' });
    assert.equal(planMemory(onnx).kv[0].bytesPerToken, planMemory(hf).kv[0].bytesPerToken);
    const notDecoder = await openArchitecture(fixture('onnx', 'transformer.onnx')).catch((e: unknown) => e);
    assert.ok(isFormatError(notDecoder) && /no past key inputs/.test(notDecoder.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
