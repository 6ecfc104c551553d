import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseByteSize } from '../../../src/protocol/parseByteSize';
import type { CliErrorReport } from '../../../src/cli/reportError';
import type { MemoryPlan } from '../../../src/protocol/servingTypes';
import { fixture } from '../support/paths';
import { cli } from './runCliCapture';

const LLAMA2 = fixture('serving', 'llama-2-7b.config.json');

test('memory --json on a bare config.json: the published figures, the settings as given', async () => {
  const r = await cli('memory', LLAMA2, '--budget', '24GiB', '--kv', 'fp8', '--weights', 'int4', '--json');
  assert.equal(r.code, 0, r.err);
  const plan = JSON.parse(r.out) as MemoryPlan;
  assert.equal(plan.parameters.total, 6_738_415_616);
  assert.equal(plan.kv.find((k) => k.precision === 'fp16')?.bytesPerToken, 2 * 32 * 32 * 128 * 2);
  assert.deepEqual([plan.settings.budgetBytes, plan.settings.kv, plan.settings.weights, plan.settings.blockSize, plan.settings.contextLength], [24 * 2 ** 30, 'fp8', 'int4', 16, 4096]);
  const row = plan.fits.find((f) => f.contextLength === 4096);
  assert.equal(row?.maxBatch, Math.floor((24 * 2 ** 30 - plan.fixedBytes) / (4096 * 2 * 32 * 32 * 128)));
  assert.equal(plan.architecture.fields['numKvHeads'].origin, 'read');
});

test('memory text names the figures and which fields were read or assumed', async () => {
  const r = await cli('memory', fixture('serving', 'mistral-7b-v0.1.config.json'), '--context', '32768');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /heads 32 \/ KV heads 8 \(GQA\)/);
  assert.match(r.out, /sliding window 4096 tokens on 32 of 32 layers/);
  assert.match(r.out, /^ {2}fp16 +131,072 B\/token +512\.00 MiB$/m);
  assert.match(r.out, /^ {2}read +numLayers \(num_hidden_layers\)/m);
  assert.match(r.out, /^ {2}default +headDim \(hidden_size \/ num_attention_heads\)/m);
  assert.match(r.out, /^ {2}32768 +512\.00 MiB +0 B +\d+$/m);
});

test('memory: a partial config names the missing field; a bad budget names the option', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'memory-cli-'));
  try {
    const partial = join(dir, 'config.json');
    await writeFile(partial, JSON.stringify({ model_type: 'llama', hidden_size: 4096, num_attention_heads: 32, vocab_size: 32000, intermediate_size: 11008 }));
    const r = await cli('memory', partial, '--json');
    assert.equal(r.code, 1);
    assert.match(r.err, /^quantscope: config\.json: num_hidden_layers is missing \(looked for num_hidden_layers, n_layer, num_layers, n_layers\)/);
    const report = JSON.parse(r.out) as CliErrorReport;
    assert.equal(report.error.code, 'unreadable');
    const bad = await cli('memory', LLAMA2, '--budget', 'lots');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--budget must be a size such as 24GiB/);
    const kv = await cli('memory', LLAMA2, '--kv', 'fp4');
    assert.equal(kv.code, 2);
    assert.match(kv.err, /--kv must be fp16, fp8 or int8; got "fp4"/);
    const missing = await cli('memory', join(dir, 'nothing.json'));
    assert.match(missing.err, /no such file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sizes parse in decimal and binary units', () => {
  assert.equal(parseByteSize('24GiB'), 24 * 2 ** 30);
  assert.equal(parseByteSize('80 GB'), 80e9);
  assert.equal(parseByteSize('16g'), 16 * 2 ** 30);
  assert.equal(parseByteSize('1.5MiB'), 1.5 * 2 ** 20);
  assert.equal(parseByteSize('1000'), 1000);
  assert.throws(() => parseByteSize('12 parsecs'), /be a size/);
  assert.throws(() => parseByteSize('0'), /positive/);
});

test('memory --experts compares the routed experts of a model with weights', async () => {
  const r = await cli('memory', fixture('moe'), '--experts', '--json');
  assert.equal(r.code, 0, r.err);
  const plan = JSON.parse(r.out) as MemoryPlan;
  assert.deepEqual(plan.experts?.layers.map((l) => l.experts), [4, 4]);
  assert.deepEqual([plan.experts?.layers[0].closest?.a, plan.experts?.layers[0].closest?.b], [0, 1]);
  const text = await cli('memory', fixture('moe'), '--experts');
  assert.match(text.out, /^ {2}layer 0: 4 experts \(w1, w2, w3\), norm [\d.]+–[\d.]+; closest 0~1 cos 0\.99\d/m);
  const bare = await cli('memory', fixture('moe', 'config.json'), '--experts', '--json');
  assert.match((JSON.parse(bare.out) as MemoryPlan).warnings.join('\n'), /the experts need the weights/);
});
