import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { GptqExportReport } from '../../../src/protocol/gptqExportTypes';
import { parseQuantizeTarget } from '../../../src/cli/quantizeTarget';
import { fixture } from '../support/paths';
import { cli } from './runCliCapture';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-gptq-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('quantize --to safetensors-gptq writes a new folder beside the source; -o names it; misuse is a usage error', async () => {
  const folder = join(dir, 'qwen2');
  cpSync(fixture('decoder', 'qwen2'), folder, { recursive: true });
  const r = await cli('quantize', folder, '--to', 'safetensors-gptq', '--method', 'rtn', '--group', '32', '--json');
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as GptqExportReport;
  assert.equal(report.output, `${folder}-gptq-4bit-g32`);
  assert.ok(existsSync(join(report.output, 'model.safetensors')));
  const text = await cli('quantize', folder, '--to', 'safetensors-gptq', '--method', 'rtn', '--bits', '8', '-o', join(dir, 'mine'));
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /Wrote GPTQ safetensors \(8-bit, group 128, symmetric\)/);
  assert.deepEqual(readdirSync(join(dir, 'mine')).sort(), ['config.json', 'model.safetensors', 'quantize_config.json']);
  const taken = await cli('quantize', folder, '--to', 'safetensors-gptq', '--method', 'rtn', '-o', join(dir, 'mine'));
  assert.equal(taken.code, 1);
  assert.match(taken.err, /already exists/);
  for (const [args, message] of [
    [['--bits', '3'], /4 or 8 bits, not 3/],
    [['--method', 'smoothquant'], /gptq or rtn, not smoothquant/],
    [['--format', 'nbits'], /--format does not apply/],
  ] as const) {
    const bad = await cli('quantize', folder, '--to', 'safetensors-gptq', ...args);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, message);
  }
  const unknown = await cli('quantize', folder, '--to', 'tflite');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /--to tflite is not a target; use onnx, safetensors-gptq/);
  assert.deepEqual(parseQuantizeTarget('onnx'), { kind: 'onnx' });
});
