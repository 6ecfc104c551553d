import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildDecoder, openDecoderSource, type DecoderConfig } from '../../../../src/core/decoder';
import type { BenchReport } from '../../../../src/protocol/benchTypes';
import { openSession, type RunTensor } from '../../../../src/worker/ort';
import { benchmarkModels } from '../../../../src/worker/jobs/benchmark';
import { CancelledError, QUIET_JOB } from '../../../../src/worker/jobs/JobContext';
import { quantizeModel } from '../../../../src/worker/jobs/quantize';
import { fixture } from '../../support/paths';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-genbench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MODEL = join(dir, 'llama_gqa.onnx');
const TWIN = join(dir, 'llama_gqa.copy.onnx');
let config: DecoderConfig;

before(async () => {
  const source = await openDecoderSource(fixture('decoder', 'llama_gqa'));
  config = source.config;
  await (await buildDecoder(source)).save(MODEL);
  copyFileSync(MODEL, TWIN);
});

const P = 6;
const N = 5;

/** argmax of every row of the logits [1, seq, vocab] from `from` on. */
function argmaxRows(logits: Float32Array, vocab: number, from: number): number[] {
  const out: number[] = [];
  for (let r = from; r < logits.length / vocab; r++) {
    let best = 0;
    for (let j = 1; j < vocab; j++) if (logits[r * vocab + j] > logits[r * vocab + best]) best = j;
    out.push(best);
  }
  return out;
}

/** One pass over the whole sequence with an empty cache, in a plain session: no cache fed back. */
async function fullPass(ids: readonly number[]): Promise<Float32Array> {
  const session = await openSession(MODEL, { threads: 1 });
  const int64 = (v: readonly number[]): RunTensor => ({ type: 'int64', dims: [1, v.length], data: BigInt64Array.from(v, (x) => BigInt(x)) });
  const feeds: Record<string, RunTensor> = { input_ids: int64(ids), attention_mask: int64(ids.map(() => 1)), position_ids: int64(ids.map((_, i) => i)) };
  for (let i = 0; i < config.numLayers; i++) {
    const empty: RunTensor = { type: 'float32', dims: [1, config.numKvHeads, 0, config.headDim], data: new Float32Array(0) };
    feeds[`past_key_values.${i}.key`] = empty;
    feeds[`past_key_values.${i}.value`] = empty;
  }
  try {
    return (await session.run(feeds, ['logits'])).logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

let single: BenchReport;

test('generation on a built decoder: the greedy tokens through the cache equal the argmax of a full-sequence pass, and the report adds up', async () => {
  single = await benchmarkModels({ models: [MODEL], threads: 1, runs: 2, warmup: 1, profile: false, generate: { promptTokens: P, newTokens: N } }, QUIET_JOB);
  const gen = single.generation;
  assert.ok(gen);
  assert.equal(gen.promptTokens, P);
  assert.equal(gen.newTokens, N);
  assert.equal(gen.prompt.length, P);
  assert.ok(gen.prompt.every((id) => Number.isInteger(id) && id >= 0 && id < config.vocabSize));
  const g = gen.models[0];
  assert.deepEqual(g.decoder, { layers: config.numLayers, kvHeads: config.numKvHeads, headDim: config.headDim, vocabSize: config.vocabSize, kvElementBytes: 4 });
  assert.equal(g.tokens.length, N + 1);
  const logits = await fullPass([...gen.prompt, ...g.tokens.slice(0, N)]);
  assert.deepEqual(g.tokens, argmaxRows(logits, config.vocabSize, P - 1));

  const kv = 2 * config.numLayers * config.numKvHeads * config.headDim * 4 * (P + N);
  assert.equal(g.kvCacheBytesComputed, kv);
  assert.equal(g.kvCacheBytes, kv);
  // Every projection and the head read in full, the embedding one row, all float32.
  const h = config.hiddenSize, kvWidth = config.numKvHeads * config.headDim, qWidth = config.numHeads * config.headDim;
  const perLayer = h * qWidth + 2 * h * kvWidth + qWidth * h + 3 * h * config.intermediateSize;
  assert.equal(g.weightBytesPerToken, 4 * (config.numLayers * perLayer + h * config.vocabSize + h));
  assert.deepEqual(g.nbitsAccuracyLevels, []);

  assert.equal(single.settings.rounds, 2);
  assert.equal(g.prefillSamples.length, 2);
  assert.equal(g.tokenMs.length, N);
  const m = single.models[0];
  assert.equal(m.samples.length, 2 * N);
  assert.ok(m.latencyMs.min > 0 && m.latencyMs.min <= m.latencyMs.p50 && m.latencyMs.p50 <= m.latencyMs.p90);
  assert.ok(Math.abs(g.decodeTokensPerSec - 1000 / m.latencyMs.p50) < 1e-9);
  assert.ok(g.prefillMs.p50 > 0 && m.peakRssBytes > kv);
  assert.deepEqual(single.settings.inputs, { input_ids: [1, P] });
  assert.deepEqual(single.comparisons, []);
  assert.ok(single.verdicts.length > 0);
});

test('a pair of the same decoder agrees token for token, with per-phase ratios and spreads, and a decode-step profile', async () => {
  const r = await benchmarkModels({ models: [MODEL, TWIN], threads: 1, runs: 3, warmup: 1, generate: { promptTokens: P, newTokens: N } }, QUIET_JOB);
  const gen = r.generation;
  assert.ok(gen);
  assert.equal(gen.comparisons.length, 1);
  const c = gen.comparisons[0];
  assert.equal(c.tokensAgree, true);
  assert.equal(c.firstDivergence, null);
  assert.deepEqual(gen.models[0].tokens, gen.models[1].tokens);
  // The same model's prompt gives the same tokens as the single run did.
  assert.deepEqual(gen.models[0].tokens, single.generation?.models[0].tokens);
  for (const [ratio, [lo, hi]] of [[c.prefillRatio, c.prefillSpread], [c.decodeRatio, c.decodeSpread]] as const) {
    assert.ok(Number.isFinite(ratio) && ratio > 0);
    assert.ok(lo > 0 && lo <= hi);
  }
  assert.equal(r.comparisons[0].ratioOfMedians, c.decodeRatio);
  for (const m of r.models) {
    assert.ok(m.opTimes.some((o) => o.opType === 'MatMul'), m.opTimes.map((o) => o.opType).join());
    assert.equal(m.samples.length, 3 * N);
  }
});

test('generation refuses a model without a KV cache, a text prompt without a tokenizer, and stops when cancelled', async () => {
  await assert.rejects(
    benchmarkModels({ models: [fixture('workspace', 'tiny_mlp.onnx')], generate: {} }, QUIET_JOB),
    /tiny_mlp\.onnx is not a decoder with a KV cache: it has no input_ids input/,
  );
  await assert.rejects(benchmarkModels({ models: [MODEL], generate: { prompt: 'hello' } }, QUIET_JOB), /needs a tokenizer\.json/);
  await assert.rejects(benchmarkModels({ models: [MODEL], generate: { promptTokens: 4, newTokens: 0 } }, QUIET_JOB), /at least 1 new token/);
  let steps = 0;
  const ctx = { isCancelled: () => ++steps > 5, progress: () => undefined };
  await assert.rejects(benchmarkModels({ models: [MODEL], threads: 1, runs: 50, warmup: 0, profile: false, generate: { promptTokens: 4, newTokens: 50 } }, ctx), CancelledError);
});

test('an INT4 MatMulNBits decoder at accuracy level 4 against its float original: fewer bytes per token, its level, and verdicts that rest on both', async () => {
  const q4 = join(dir, 'llama_gqa.q4.onnx');
  await quantizeModel({ path: MODEL, output: q4, method: 'rtn', bits: 4, group: 32, format: 'nbits', accuracyLevel: 4 }, QUIET_JOB);
  await assert.rejects(quantizeModel({ path: MODEL, output: join(dir, 'x.onnx'), method: 'rtn', bits: 8, format: 'dynamic', accuracyLevel: 4 }, QUIET_JOB), /accuracy level is MatMulNBits'/);
  const r = await benchmarkModels({ models: [MODEL, q4], threads: 1, runs: 2, warmup: 1, profile: false, generate: { promptTokens: P, newTokens: N } }, QUIET_JOB);
  const gen = r.generation;
  assert.ok(gen);
  const [fp, int4] = gen.models;
  assert.deepEqual(int4.nbitsAccuracyLevels, [4]);
  assert.equal(r.models[1].graphOps.MatMulNBits, config.numLayers * 7 + 1);
  // 4-bit codes plus a float scale per 32 weights, against float32: about 0.16 of the bytes; the float embedding row stays.
  const bytes = int4.weightBytesPerToken / fp.weightBytesPerToken;
  assert.ok(bytes > 0.1 && bytes < 0.2, String(bytes));
  assert.ok(r.verdicts.some((v) => v.includes(`INT4 weights read ${bytes.toFixed(2)}× the bytes`)), r.verdicts.join('\n'));
  const c = gen.comparisons[0];
  const tokens = c.tokensAgree ? `agree with llama_gqa.onnx for all ${N + 1} tokens` : `diverge from llama_gqa.onnx at token ${c.firstDivergence ?? ''}`;
  assert.ok(r.verdicts.some((v) => v.includes(tokens)), r.verdicts.join('\n'));
  if (r.cpu.known && r.cpu.avx2) assert.ok(r.verdicts.some((v) => v.includes('llama_gqa.q4.onnx: MatMulNBits runs at accuracy_level 4')));
});

test('a text prompt is tokenized with its tokenizer.json, and an id beyond the model\'s vocabulary is refused by name', async () => {
  const tokenizer = fixture('lm', 'tokenizer.json');
  // The fixture's WordPiece vocabulary lowercases and splits on whitespace: whole words map to their ids.
  const vocab = (JSON.parse(readFileSync(tokenizer, 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
  const r = await benchmarkModels({ models: [MODEL], threads: 1, runs: 1, warmup: 0, profile: false, generate: { prompt: 'The harbor town', tokenizer, newTokens: 2 } }, QUIET_JOB);
  assert.equal(r.generation?.promptFrom, 'text');
  assert.deepEqual(r.generation?.prompt, ['the', 'harbor', 'town'].map((w) => vocab[w]));
  assert.ok(vocab.day >= config.vocabSize);
  await assert.rejects(benchmarkModels({ models: [MODEL], generate: { prompt: 'the day', tokenizer } }, QUIET_JOB), new RegExp(`tokenizer\\.json gives token id ${vocab.day}, beyond the model's vocabulary of ${config.vocabSize}`));
});
