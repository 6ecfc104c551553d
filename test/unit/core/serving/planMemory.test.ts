import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { kvSequenceBytes, planMemory, readConfigArchitecture } from '../../../../src/core/serving';
import { fixture } from '../../support/paths';

function published(name: string): ReturnType<typeof readConfigArchitecture> {
  return readConfigArchitecture(JSON.parse(readFileSync(fixture('serving', `${name}.config.json`), 'utf8')) as unknown, 'config.json');
}

/** Parameters of a Llama-style decoder, counted by hand from its published sizes. */
function llamaParameters(h: number, inter: number, layers: number, heads: number, kvHeads: number, vocab: number): number {
  const hd = h / heads;
  const attention = 2 * h * heads * hd + 2 * h * kvHeads * hd;
  const mlp = 3 * h * inter;
  return 2 * vocab * h + layers * (attention + mlp + 2 * h) + h;
}

test('Llama-2-7B (MHA): 524,288 KV bytes per token at fp16 and 6,738,415,616 parameters', () => {
  const plan = planMemory(published('llama-2-7b'));
  assert.equal(plan.kv.find((k) => k.precision === 'fp16')?.bytesPerToken, 2 * 32 * 32 * 128 * 2);
  assert.equal(plan.kv.find((k) => k.precision === 'fp16')?.bytesPerToken, 524_288);
  assert.equal(plan.parameters.total, 6_738_415_616);
  assert.equal(plan.parameters.total, llamaParameters(4096, 11008, 32, 32, 32, 32000));
  assert.equal(plan.parameters.active, plan.parameters.total);
  // fp8 halves the cache; int8 adds a float16 scale and zero point per token, layer, head, for K and V.
  assert.equal(plan.kv.find((k) => k.precision === 'fp8')?.bytesPerToken, 2 * 32 * 32 * 128);
  assert.equal(plan.kv.find((k) => k.precision === 'int8')?.bytesPerToken, 2 * 32 * 32 * 128 + 2 * 32 * 32 * 4);
  assert.equal(plan.kv.find((k) => k.precision === 'fp16')?.bytesPerSequence, 524_288 * 4096);
  assert.equal(plan.weights.find((w) => w.precision === 'float16')?.bytes, 2 * 6_738_415_616);
  assert.equal(plan.weights.find((w) => w.precision === 'float32')?.bytes, 4 * 6_738_415_616);
});

test('Llama-3-8B (GQA 32/8, vocabulary 128256): a quarter of the MHA cache, 8,030,261,248 parameters', () => {
  const a = published('llama-3-8b');
  assert.deepEqual([a.numHeads, a.numKvHeads, a.headDim, a.vocabSize, a.contextLength], [32, 8, 128, 128256, 8192]);
  assert.deepEqual(a.fields['numKvHeads'], { origin: 'read', from: 'num_key_value_heads' });
  assert.deepEqual(a.fields['headDim'], { origin: 'default', from: 'hidden_size / num_attention_heads' });
  const plan = planMemory(a, { budgetBytes: 24 * 2 ** 30 });
  assert.equal(plan.kv[0].bytesPerToken, 2 * 32 * 8 * 128 * 2);
  assert.equal(plan.parameters.total, 8_030_261_248);
  assert.equal(plan.parameters.total, llamaParameters(4096, 14336, 32, 32, 8, 128256));
  // The largest batch at each context: what is left after the weights and activations, over one sequence's blocks.
  const available = 24 * 2 ** 30 - 2 * 8_030_261_248 - plan.activations.flashBytes;
  for (const row of plan.fits) {
    const perSequence = Math.ceil(row.contextLength / 16) * 16 * 131_072;
    assert.equal(row.kvBytesPerSequence, perSequence);
    assert.equal(row.maxBatch, Math.floor(available / perSequence), `context ${row.contextLength}`);
  }
  assert.deepEqual(plan.fits.map((r) => r.contextLength), [512, 1024, 2048, 4096, 8192]);
  assert.equal(plan.maxContextAtBatch1, 8192);
});

test('INT8 and INT4 weights carry their scales and zero points; embeddings stay float16', () => {
  const plan = planMemory(published('llama-2-7b'), { int4GroupSize: 128 });
  const embedding = 32000 * 4096;
  const layerMatrices: [number, number][] = [[4096, 4096], [4096, 4096], [4096, 4096], [4096, 4096], [11008, 4096], [11008, 4096], [4096, 11008]];
  const matrices: [number, number, number][] = [...layerMatrices.map(([r, c]) => [r, c, 32] as [number, number, number]), [32000, 4096, 1]];
  const vectors = 2 * 4096 * 32 + 4096;
  const int8 = matrices.reduce((s, [r, c, n]) => s + n * (r * c + r * 5), 0) + 2 * (embedding + vectors);
  assert.equal(plan.weights.find((w) => w.precision === 'int8')?.bytes, int8);
  const int4 = matrices.reduce((s, [r, c, n]) => s + n * (r * c / 2 + r * (c / 128) * 2 + r * Math.ceil(c / 128 / 2)), 0) + 2 * (embedding + vectors);
  const w4 = plan.weights.find((w) => w.precision === 'int4');
  assert.equal(w4?.bytes, int4);
  assert.equal(w4?.scaleBytes, matrices.reduce((s, [r, c, n]) => s + n * (r * (c / 128) * 2 + r * (c / 256)), 0));
  assert.ok(w4 && w4.bitsPerWeight > 4 && w4.bitsPerWeight < 5);
});

test('Mistral-7B-v0.1: the 4096-token window caps the cache, paged blocks add their waste', () => {
  const a = published('mistral-7b-v0.1');
  assert.deepEqual([a.slidingWindow, a.slidingLayers], [4096, 32]);
  const perToken = 2 * 32 * 8 * 128 * 2;
  assert.equal(kvSequenceBytes(a, 'fp16', 1000), 1000 * perToken);
  assert.equal(kvSequenceBytes(a, 'fp16', 4096), 4096 * perToken);
  assert.equal(kvSequenceBytes(a, 'fp16', 32768), 4096 * perToken);
  assert.equal(kvSequenceBytes(a, 'fp16', 1000, 16), 1008 * perToken);
  const plan = planMemory(a, { contextLength: 32768, blockSize: 16 });
  assert.equal(plan.kv[0].bytesPerSequence, 4096 * perToken);
  const row = plan.fits.find((r) => r.contextLength === 32768);
  assert.equal(row?.kvBytesPerSequence, 4096 * perToken);
  assert.equal(plan.parameters.total, llamaParameters(4096, 14336, 32, 32, 8, 32000));
  // A block allocator of 16 tokens wastes nothing on 1024 tokens and 15 tokens' worth on 1009.
  const odd = planMemory(a, { contextLength: 1009, blockSize: 16 });
  assert.equal(odd.fits[odd.fits.length - 1].pagingWasteBytes, 15 * perToken);
});

test('Mixtral-8x7B: 8 experts, 2 per token: total and active parameters by hand', () => {
  const a = published('mixtral-8x7b');
  assert.deepEqual(a.moe, { experts: 8, expertsPerToken: 2, sharedExperts: 0, expertIntermediateSize: 14336, sharedIntermediateSize: 0, moeLayers: 32 });
  assert.equal(a.slidingWindow, undefined);
  const attention = 2 * 4096 * 4096 + 2 * 4096 * 1024;
  const expert = 3 * 4096 * 14336;
  const shared = 2 * 32000 * 4096 + 32 * (attention + 4096 * 8 + 2 * 4096) + 4096;
  const plan = planMemory(a);
  assert.equal(plan.parameters.total, shared + 32 * 8 * expert);
  assert.equal(plan.parameters.total, 46_702_792_704);
  assert.equal(plan.parameters.active, shared + 32 * 2 * expert);
  assert.equal(plan.parameters.active, 12_879_925_248);
  assert.equal(plan.kv[0].bytesPerToken, 2 * 32 * 8 * 128 * 2);
});

test('Qwen1.5-MoE-A2.7B: 60 experts, 4 per token, one gated shared expert, q/k/v biases', () => {
  const a = published('qwen1.5-moe-a2.7b');
  assert.deepEqual(a.moe, { experts: 60, expertsPerToken: 4, sharedExperts: 1, expertIntermediateSize: 1408, sharedIntermediateSize: 5632, moeLayers: 24 });
  assert.equal(a.slidingLayers, 0);
  const H = 2048;
  const attention = 4 * H * H + 3 * H;
  const expert = 3 * H * 1408;
  const perLayerShared = attention + 3 * H * 5632 + 60 * H + H + 2 * H;
  const outside = 2 * 151936 * H + H;
  const plan = planMemory(a);
  assert.equal(plan.parameters.total, outside + 24 * (perLayerShared + 60 * expert));
  assert.equal(plan.parameters.active, outside + 24 * (perLayerShared + 4 * expert));
  assert.equal(Math.round(plan.parameters.total / 1e8), 143); // the model card's 14.3B
  assert.equal(Math.round(plan.parameters.active / 1e8), 27); // and 2.7B activated
});

test('DeepSeek-V2-Lite: shared experts, a dense first layer, and the latent KV cache', () => {
  const a = published('deepseek-v2-lite');
  assert.deepEqual(a.moe, { experts: 64, expertsPerToken: 6, sharedExperts: 2, expertIntermediateSize: 1408, sharedIntermediateSize: 1408, moeLayers: 26 });
  assert.equal(a.ropeScaling, 'yarn ×40');
  const plan = planMemory(a);
  // One 512-wide latent and a 64-wide rotary key per token and layer.
  assert.equal(plan.kv[0].bytesPerToken, (512 + 64) * 27 * 2);
  const H = 2048;
  const attention = 16 * 192 * H + (512 + 64) * H + 16 * (128 + 128) * 512 + H * 16 * 128 + 512;
  const expert = 3 * H * 1408;
  const total = 2 * 102400 * H + 27 * (attention + 2 * H) + H + 3 * H * 10944 + 26 * (64 * H + 64 * expert + 2 * expert);
  assert.equal(plan.parameters.total, total);
  assert.equal(plan.parameters.active, total - 26 * 58 * expert);
  assert.equal(Math.round(total / 1e8), 157); // the model card's 15.7B
});

test('the budget decides the batch: an INT4 Llama-2-7B fits more sequences than a float16 one', () => {
  const a = published('llama-2-7b');
  const fp16 = planMemory(a, { budgetBytes: 16 * 2 ** 30 });
  const int4 = planMemory(a, { budgetBytes: 16 * 2 ** 30, weights: 'int4', kv: 'fp8' });
  const at4k = (p: typeof fp16): number => p.fits.find((r) => r.contextLength === 4096)?.maxBatch ?? -1;
  assert.equal(at4k(fp16), Math.floor((16 * 2 ** 30 - fp16.fixedBytes) / (4096 * 524_288)));
  assert.equal(at4k(int4), Math.floor((16 * 2 ** 30 - int4.fixedBytes) / (4096 * 262_144)));
  assert.ok(at4k(int4) > 2 * at4k(fp16));
  const tiny = planMemory(a, { budgetBytes: 8 * 2 ** 30 });
  assert.equal(tiny.maxContextAtBatch1, 0);
  assert.ok(tiny.warnings.some((w) => /float16 weights and activations alone need more than the budget/.test(w)));
  // Curves: one line per precision pair and batch, rising with the context.
  assert.equal(fp16.curves.length, 3 * 3);
  for (const c of fp16.curves) for (let i = 1; i < c.bytes.length; i++) assert.ok(c.bytes[i] >= c.bytes[i - 1]);
});

test('the activation estimate follows its documented formula', () => {
  const a = published('llama-2-7b');
  const P = 2048;
  const e = planMemory(a, { prefillTokens: P }).activations;
  const residual = 2 * P * 4096;
  const attention = P * (96 * 128 + 32 * 128);
  const mlp = 3 * P * 11008;
  assert.equal(e.flashBytes, 2 * (residual + Math.max(attention, mlp)) + 32000 * 4);
  assert.equal(e.eagerBytes, 2 * (residual + Math.max(attention + 2 * 32 * P * P, mlp)) + 32000 * 4);
});
