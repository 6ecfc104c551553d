import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tokenizerBeside } from '../../../../src/core/calibration/tokenizerBeside';
import { fixture } from '../../support/paths';

const dir = mkdtempSync(join(tmpdir(), 'tokenizer-beside-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the tokenizer.json of a checkpoint folder is found from the folder, its weights, an ONNX beside them and its cached graph', async () => {
  const folder = join(dir, 'tiny_qwen2');
  cpSync(fixture('workspace', 'tiny_qwen2'), folder, { recursive: true });
  const tokenizer = join(folder, 'tokenizer.json');
  const cache = join(folder, '.quantscope', 'decoder');
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, 'model.onnx'), '');
  for (const from of [folder, join(folder, 'model.safetensors'), join(folder, 'config.json'), join(folder, 'model.q4.onnx'), join(cache, 'model.onnx')]) {
    assert.equal(await tokenizerBeside(from), tokenizer, from);
  }
});

test('a model without a tokenizer.json beside it, or with a folder of that name, has none', async () => {
  assert.equal(await tokenizerBeside(fixture('workspace', 'tiny_mlp.onnx')), undefined);
  const odd = join(dir, 'odd');
  mkdirSync(join(odd, 'tokenizer.json'), { recursive: true });
  assert.equal(await tokenizerBeside(join(odd, 'model.onnx')), undefined);
});
