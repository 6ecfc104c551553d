import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDecoderSource } from '../../../src/core/decoder';
import type { ExportReport } from '../../../src/protocol/exportTypes';
import type { QuantizeReport } from '../../../src/protocol/quantizeTypes';
import type { ModelProfile } from '../../../src/protocol/workerProtocol';
import { loadTokenizer } from '../../../src/worker/jobs/loadTokenizer';
import { DecoderRunner, reference, relativeError } from '../core/decoder/decoderRuns';
import { fixture } from '../support/paths';
import { cli } from './runCliCapture';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-decoder-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A private copy of a decoder fixture folder, so outputs and the cache land in a scratch folder. */
function copyOf(name: string, as = name): string {
  const to = join(dir, as);
  cpSync(fixture('decoder', name), to, { recursive: true });
  return to;
}

/** Every file under `root` (relative), sorted. */
function listing(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(root, f)).isFile()).sort();
}

function parse<T>(r: { code: number; out: string; err: string }): T {
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as T;
}

test('export writes model.onnx beside the weights, then a numbered name; ONNX Runtime gives the numpy reference logits', async () => {
  const folder = copyOf('llama_gqa');
  const r = parse<ExportReport>(await cli('export', join(folder, 'model.safetensors.index.json'), '--json'));
  assert.equal(r.output, join(folder, 'model.onnx'));
  const config = (await openDecoderSource(folder)).config;
  assert.deepEqual([r.family, r.layers, r.hidden, r.heads, r.kvHeads, r.vocab], ['llama', config.numLayers, config.hiddenSize, config.numHeads, config.numKvHeads, config.vocabSize]);
  assert.equal(r.fileBytes, statSync(r.output).size);
  const ref = reference('llama_gqa');
  const runner = await DecoderRunner.open(r.output, config);
  try {
    const run = await runner.step([ref.tokens], runner.emptyCache(), 0);
    const err = relativeError(run.logits, ref.logits.flat());
    assert.ok(err < 1e-4, `relative error ${err} against numpy`);
  } finally {
    await runner.release();
  }
  const again = parse<ExportReport>(await cli('export', folder, '--json'));
  assert.equal(again.output, join(folder, 'model-1.onnx'));
  const text = await cli('export', folder, '-o', r.output);
  assert.equal(text.code, 1);
  assert.equal(text.err, `quantscope: ${r.output} already exists; choose another name\n`);
  const gguf = join(dir, 'llama_gqa.gguf');
  cpSync(fixture('decoder', 'llama_gqa.gguf'), gguf);
  const fromGguf = await cli('export', gguf);
  assert.equal(fromGguf.code, 0, fromGguf.err);
  assert.match(fromGguf.out, new RegExp(`^Exported llama decoder: .*llama_gqa\\.gguf → .*llama_gqa\\.onnx\\n  ${config.numLayers} layers, hidden ${config.hiddenSize}`));
});

test('quantize on a Hugging Face folder builds the graph once, reuses the cache, and rebuilds when the source changes or the cache is damaged', async () => {
  const folder = copyOf('qwen2');
  const before = listing(folder);
  const args = ['--method', 'gptq', '--format', 'nbits', '--bits', '4', '--samples', '2', '--seq', '16', '--json'];
  const first = parse<QuantizeReport>(await cli('quantize', folder, ...args));
  const cache = join(folder, '.quantscope', 'decoder', 'model.onnx');
  assert.equal(first.output, join(folder, 'model.q4.onnx'));
  assert.deepEqual([first.decoderGraph?.graph, first.decoderGraph?.cacheHit], [cache, false]);
  assert.ok(first.layers.length >= 7 * 2, `${first.layers.length} layers quantized`);
  assert.ok(first.layers.every((l) => l.kind === 'nbits'));
  assert.ok((first.validation.outputs.find((o) => o.name === 'logits')?.cosine ?? 0) > 0.9);
  assert.deepEqual(listing(folder), [...before, '.quantscope/decoder/model.onnx', '.quantscope/decoder/model.onnx.json', 'model.q4.onnx'].sort());

  const cachedAt = statSync(cache).mtimeMs;
  const second = parse<QuantizeReport>(await cli('quantize', join(folder, 'model.safetensors'), ...args));
  assert.deepEqual([second.output, second.decoderGraph?.cacheHit], [join(folder, 'model.q4-1.onnx'), true]);
  assert.equal(statSync(cache).mtimeMs, cachedAt, 'a cache hit does not rewrite the graph');

  const weights = join(folder, 'model.safetensors');
  const later = new Date(statSync(weights).mtimeMs + 5000);
  utimesSync(weights, later, later);
  const touched = parse<QuantizeReport>(await cli('quantize', folder, ...args));
  assert.equal(touched.decoderGraph?.cacheHit, false, 'touching the weights rebuilds the graph');

  truncateSync(cache, 1000);
  const truncated = parse<QuantizeReport>(await cli('quantize', folder, ...args));
  assert.equal(truncated.decoderGraph?.cacheHit, false, 'a truncated cache entry is rebuilt');
  writeFileSync(`${cache}.json`, '{ not json');
  const corrupt = parse<QuantizeReport>(await cli('quantize', folder, ...args));
  assert.equal(corrupt.decoderGraph?.cacheHit, false, 'an unreadable fingerprint is rebuilt');
  assert.equal(parse<QuantizeReport>(await cli('quantize', folder, ...args)).decoderGraph?.cacheHit, true);
  assert.equal(statSync(weights).size, statSync(fixture('decoder', 'qwen2', 'model.safetensors')).size, 'the source is untouched');
});

test('profile calibrates a decoder checkpoint through its built graph, and prune and bench take one too', async () => {
  const folder = copyOf('mqa');
  const p = parse<ModelProfile>(await cli('profile', join(folder, 'model.safetensors'), '--samples', '2', '--seq', '8', '--json'));
  assert.equal(p.path, join(folder, 'model.safetensors'));
  assert.ok(p.layers.some((l) => l.layer === 'model.layers.0.self_attn.q_proj' && l.sensitivity !== undefined));
  const pruned = await cli('prune', folder, '--method', 'magnitude', '--sparsity', '0.5', '--samples', '2', '--seq', '8');
  assert.equal(pruned.code, 0, pruned.err);
  assert.match(pruned.out, /^Graph: the cached graph built from the checkpoint/m);
  assert.ok(existsSync(join(folder, 'model.pruned.onnx')));
  const bench = await cli('bench', folder, '--runs', '2', '--warmup', '0', '--seq', '8', '--no-profile', '--json');
  assert.equal(bench.code, 0, bench.err);
});

test('advise judges a decoder checkpoint on its built graph, with calibration and sensitivity', async () => {
  const folder = copyOf('llama', 'llama-advise');
  const r = parse<{ calibrated: boolean; findings: { kind: string; layer: string }[] }>(await cli('advise', folder, '--samples', '2', '--seq', '8', '--json'));
  assert.equal(r.calibrated, true);
  assert.ok(r.findings.some((f) => f.kind === 'sensitive' && f.layer.startsWith('model.layers.')), JSON.stringify(r.findings.map((f) => f.kind)));
});

test('a folder without config.json, a missing shard and a checkpoint without a decoder give the engine\'s message and write nothing', async () => {
  const noConfig = copyOf('llama', 'no_config');
  rmSync(join(noConfig, 'config.json'));
  const shards = copyOf('llama_gqa', 'missing_shard');
  rmSync(join(shards, 'model-00002-of-00002.safetensors'));
  const quantize = ['--method', 'gptq', '--format', 'nbits', '--bits', '4'];
  const cases: [string, RegExp][] = [
    [noConfig, /^quantscope: no_config has no config\.json \(or Meta's params\.json\), so the model's architecture is unknown\n$/],
    [shards, /^quantscope: model\.safetensors\.index\.json: .*model-00002-of-00002\.safetensors/],
  ];
  for (const [path, message] of cases) {
    const before = listing(path);
    for (const argv of [['export', path], ['quantize', path, ...quantize], ['profile', path]]) {
      const r = await cli(...argv);
      assert.equal(r.code, 1, argv.join(' '));
      assert.match(r.err, message, argv.join(' '));
      assert.deepEqual(listing(path), before, `${argv.join(' ')} wrote nothing`);
    }
  }
  const tiny = fixture('workspace', 'tiny.safetensors');
  const r = await cli('quantize', tiny, ...quantize);
  assert.equal(r.code, 1);
  assert.match(r.err, /: this is a safetensors checkpoint, not a language model Quantscope can build \(.*no config\.json.*\); quantize reads ONNX models and language-model checkpoints/);
  const e = await cli('export', fixture('workspace', 'tiny_mlp.onnx'));
  assert.equal(e.code, 1);
  assert.match(e.err, /tiny_mlp\.onnx: not a language-model checkpoint; export reads a Hugging Face folder/);
});

test('the workspace language model\'s tokenizer.json loads, fits its embedding, and calibrates quantize on text, found beside the checkpoint without --tokenizer', async () => {
  const folder = join(dir, 'tiny_qwen2_text');
  cpSync(fixture('workspace', 'tiny_qwen2'), folder, { recursive: true });
  const tokenizerPath = join(folder, 'tokenizer.json');
  const text = join(folder, 'calibration.txt');
  const vocab = (await openDecoderSource(folder)).config.vocabSize;
  const tokenizer = await loadTokenizer(tokenizerPath);
  assert.equal(tokenizer.modelType, 'WordLevel');
  assert.ok(tokenizer.vocabSize <= vocab, `${tokenizer.vocabSize} ids for ${vocab} embedding rows`);
  const ids = tokenizer.encode(readFileSync(text, 'utf8'));
  assert.ok(ids.length > 500);
  // Mostly known words: the vocabulary holds the text's most frequent ones, the rest are <unk> (0).
  assert.ok(ids.filter((i) => i === 0).length < ids.length / 2);
  assert.deepEqual(tokenizer.encode('The harbor, zzzqx.'), [tokenizer.encode('the')[0], tokenizer.encode('harbor')[0], tokenizer.encode(',')[0], 0, tokenizer.encode('.')[0]]);

  const quantize = ['--method', 'gptq', '--format', 'nbits', '--bits', '4', '--calib', text, '--seq', '16', '--samples', '4', '--json'];
  const explicit = parse<QuantizeReport>(await cli('quantize', join(folder, 'model.safetensors'), ...quantize, '--tokenizer', tokenizerPath, '-o', join(folder, 'explicit.onnx')));
  assert.equal(explicit.validation.synthetic, false);
  assert.equal(explicit.calibrationBatches, 4);
  const beside = parse<QuantizeReport>(await cli('quantize', folder, ...quantize, '-o', join(folder, 'beside.onnx')));
  assert.equal(beside.validation.synthetic, false);
  assert.deepEqual(beside.layers.map((l) => l.relativeError), explicit.layers.map((l) => l.relativeError));

  const elsewhere = copyOf('qwen2', 'qwen2_no_tokenizer');
  const r = await cli('quantize', elsewhere, ...quantize);
  assert.equal(r.code, 1);
  assert.match(r.err, /calibration\.txt is text: calibrating on text needs the model's tokenizer\.json as well \(--tokenizer\)/);
});
