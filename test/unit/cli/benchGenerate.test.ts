import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { benchParamsFromArgs } from '../../../src/cli/benchCommand';
import { buildDecoder, openDecoderSource } from '../../../src/core/decoder';
import type { BenchReport } from '../../../src/protocol/benchTypes';
import { fixture } from '../support/paths';
import { cli } from './runCliCapture';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-cli-genbench-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MODEL = join(dir, 'mqa.onnx');

before(async () => {
  await (await buildDecoder(await openDecoderSource(fixture('decoder', 'mqa')))).save(MODEL);
});

test('bench --generate parses prompt, new tokens, rounds and a text prompt into the job parameters', () => {
  assert.deepEqual(benchParamsFromArgs(['bench', 'a.onnx', 'b.onnx', '--generate', '--prompt', '16', '--new', '8', '--rounds', '4', '--warmup', '0']), {
    models: ['a.onnx', 'b.onnx'], runs: 4, warmup: 0, generate: { promptTokens: 16, newTokens: 8 },
  });
  assert.deepEqual(benchParamsFromArgs(['a.onnx', '--generate']), { models: ['a.onnx'], generate: {} });
  assert.deepEqual(benchParamsFromArgs(['a.onnx', '--generate', '--prompt-text', 'the cat', '--tokenizer', 'tokenizer.json']).generate, { prompt: 'the cat', tokenizer: 'tokenizer.json' });
  assert.equal(benchParamsFromArgs(['a.onnx', '--runs', '7']).generate, undefined);
});

test('bench --generate options that do not fit together are usage errors naming them', async () => {
  const usage = async (...argv: string[]): Promise<string> => {
    const r = await cli('bench', MODEL, ...argv);
    assert.equal(r.code, 2, r.err);
    return r.err.split('\n')[0];
  };
  assert.equal(await usage('--prompt', '8'), 'quantscope: --prompt needs --generate');
  assert.equal(await usage('--new', '8', '--rounds', '2'), 'quantscope: --new, --rounds need --generate');
  assert.equal(await usage('--generate', '--runs', '5'), 'quantscope: --runs does not apply with --generate (use --rounds)');
  assert.equal(await usage('--generate', '--seq', '5', '--batch', '2'), 'quantscope: --batch, --seq do not apply with --generate');
  assert.equal(await usage('--generate', '--prompt-text', 'hi'), 'quantscope: --prompt-text needs --tokenizer FILE to turn the text into token ids');
  assert.equal(await usage('--generate', '--prompt', '4', '--prompt-text', 'hi', '--tokenizer', 't.json'), 'quantscope: give --prompt (a length in tokens) or --prompt-text, not both');
  assert.equal(await usage('--generate', '--new', '0'), 'quantscope: --new must be an integer ≥ 1; got "0"');
  const help = await cli('help', 'bench');
  assert.match(help.out, /Generation \(decoders with a KV cache\)/);
  assert.match(help.out, /--new N/);
});

test('bench --generate on a built decoder prints the generation table, and --json the report', async () => {
  const text = await cli('bench', MODEL, MODEL, '--generate', '--prompt', '5', '--new', '4', '--rounds', '2', '--warmup', '0', '--threads', '1', '--no-profile');
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /generations of a generated prompt of 5 tokens \+ 4 new tokens/);
  assert.match(text.out, /TTFT ms\s+decode ms\/token/);
  assert.match(text.out, /mqa\.onnx vs mqa\.onnx: prefill [\d.]+× .*decode [\d.]+×/);
  assert.match(text.out, /greedy tokens agree/);
  const json = await cli('bench', MODEL, '--generate', '--prompt', '3', '--new', '2', '--rounds', '1', '--no-profile', '--json');
  assert.equal(json.code, 0, json.err);
  const r = JSON.parse(json.out) as BenchReport;
  assert.equal(r.generation?.models[0].tokens.length, 3);
  assert.equal(r.models[0].samples.length, 2);
  const notDecoder = await cli('bench', fixture('workspace', 'tiny_mlp.onnx'), '--generate');
  assert.equal(notDecoder.code, 1);
  assert.match(notDecoder.err, /tiny_mlp\.onnx is not a decoder with a KV cache/);
});
