import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CliErrorReport } from '../../../src/cli/reportError';
import type { Captured } from '../support/captureOutput';
import { fixture } from '../support/paths';
import { cli } from './runCliCapture';

const TINY = fixture('workspace', 'tiny_mlp.onnx');
const BROKEN = fixture('workspace', 'broken.onnx');
const SAFETENSORS = fixture('workspace', 'tiny.safetensors');
const PYTORCH = fixture('pytorch', 'zip.pt');
const GGUF = fixture('gguf', 'small_v2.gguf');
const MISSING = fixture('workspace', 'no-such-model.onnx');
const FOLDER = fixture('workspace');

/** The one error line, after checking it has exactly one `quantscope: ` prefix and nothing on stdout. */
function oneError(r: Captured, code: number): string {
  assert.equal(r.code, code, r.err);
  assert.equal(r.out, '');
  assert.match(r.err, /^quantscope: /);
  assert.equal(r.err.split('quantscope:').length, 2, `one prefix: ${r.err}`);
  assert.doesNotMatch(r.err, /quantscope (inspect|stats|profile|quantize|prune|bench):/);
  return r.err.split('\n')[0].slice('quantscope: '.length);
}

/** The `--json` error object, after checking stderr says the same. */
function jsonError(r: Captured, code: number): CliErrorReport['error'] {
  assert.equal(r.code, code, r.err);
  const report = JSON.parse(r.out) as CliErrorReport;
  assert.equal(report.error.exitCode, code);
  assert.ok(r.err.startsWith(`quantscope: ${report.error.message}`), r.err);
  return report.error;
}

test('an unknown option is a usage error naming it and the nearest valid one', async () => {
  assert.equal(oneError(await cli('inspect', TINY, '--jsn'), 2), 'unknown option --jsn for inspect; did you mean --json?');
  // A mistyped valued option is caught as unknown, not read as a second model.
  assert.equal(oneError(await cli('quantize', TINY, '--method', 'rtn', '--bit', '4'), 2), 'unknown option --bit for quantize; did you mean --bits?');
  assert.equal(oneError(await cli('prune', TINY, '--method', 'nm', '--patern', '2:4'), 2), 'unknown option --patern for prune; did you mean --pattern?');
  assert.equal(oneError(await cli('stats', TINY, '--zzzzzz'), 2), 'unknown option --zzzzzz for stats; see "quantscope help stats"');
  const r = await cli('bench', TINY, '--thread', '2');
  assert.match(r.err, /\nRun "quantscope help bench" for the options\.\n$/);
});

test('a bad value names the option and what it accepts', async () => {
  assert.equal(oneError(await cli('quantize', TINY, '--method', 'rtn', '--bits', '5'), 2), '--bits must be 8, 4 or 3; got "5"');
  assert.equal(oneError(await cli('quantize', TINY, '--method', 'gtpq', '--bits', '4'), 2), '--method must be rtn, gptq, smoothquant, llmint8 or plan; got "gtpq" (did you mean gptq?)');
  assert.equal(oneError(await cli('quantize', TINY, '--method', 'smoothquant', '--alpha', '2'), 2), '--alpha must be a number from 0 to 1; got "2"');
  assert.equal(oneError(await cli('profile', TINY, '--samples', '0'), 2), '--samples must be an integer ≥ 1; got "0"');
  assert.equal(oneError(await cli('stats', TINY, '--group', '1.5'), 2), '--group must be an integer ≥ 1; got "1.5"');
  assert.equal(oneError(await cli('bench', TINY, '--opt', 'max'), 2), '--opt must be disabled, basic, extended or all; got "max"');
  assert.equal(oneError(await cli('inspect', TINY, '--json=yes'), 2), '--json takes no value');
  assert.equal(oneError(await cli('quantize', TINY, '--method', 'rtn', '--bits', '4', '--bits', '8'), 2), '--bits is given twice ("4" and "8")');
});

test('a valued option without its value says so', async () => {
  assert.equal(oneError(await cli('quantize', TINY, '--method'), 2), '--method needs a value: rtn, gptq, smoothquant, llmint8 or plan');
  assert.equal(oneError(await cli('quantize', TINY, '--method', '--bits', '4'), 2), '--method needs a value: rtn, gptq, smoothquant, llmint8 or plan');
  assert.equal(oneError(await cli('profile', TINY, '--calib'), 2), '--calib needs a value: FILE');
  assert.equal(oneError(await cli('quantize', TINY, '--method', 'rtn', '--bits', '8', '-o'), 2), '-o needs a value: OUT.onnx');
  assert.equal(oneError(await cli('quantize', TINY, TINY, '--method', 'rtn', '--bits', '8'), 2), `quantize takes one MODEL.onnx; "${TINY}" is left over`);
  assert.equal(oneError(await cli('inspect'), 2), 'inspect needs FILE');
});

test('a missing file, a folder and a file of another format are said plainly, by every command', async () => {
  const commands: string[][] = [['inspect'], ['stats'], ['profile'], ['quantize', '--method', 'rtn', '--bits', '8'], ['prune', '--method', 'magnitude'], ['bench']];
  const graphReaders = new Set(['profile', 'quantize', 'prune', 'bench']);
  for (const [name, ...options] of commands) {
    assert.equal(oneError(await cli(name, MISSING, ...options), 1), `no such file: ${MISSING}`, name);
    // The commands that run a graph take a language-model folder, so a folder gets the decoder reader's reason.
    const folder = graphReaders.has(name) ? "workspace has no config.json (or Meta's params.json), so the model's architecture is unknown" : `${FOLDER} is a folder`;
    assert.equal(oneError(await cli(name, FOLDER, ...options), 1), folder, name);
  }
  const reads = 'reads ONNX models and language-model checkpoints (a Hugging Face folder, its model.safetensors or index, a .gguf)';
  const noConfig = (folder: string): string => `${folder} has no config.json (or Meta's params.json), so the model's architecture is unknown`;
  assert.equal(oneError(await cli('quantize', PYTORCH, '--method', 'rtn', '--bits', '8'), 1), `${PYTORCH}: this is a PyTorch checkpoint, not a language model Quantscope can build (${noConfig('pytorch')}); quantize ${reads}`);
  assert.equal(oneError(await cli('prune', SAFETENSORS, '--method', 'magnitude'), 1), `${SAFETENSORS}: this is a safetensors checkpoint, not a language model Quantscope can build (${noConfig('workspace')}); prune ${reads}`);
  assert.equal(oneError(await cli('bench', TINY, GGUF), 1), `${GGUF}: this is a GGUF file, not a language model Quantscope can build (small_v2.gguf: architecture "test" is not supported: decoders are built from llama, qwen2 GGUF files); bench ${reads}`);
  // Calibration data and recipes are checked the same way before any work.
  assert.equal(oneError(await cli('quantize', TINY, '--method', 'gptq', '--bits', '4', '--calib', MISSING), 1), `no such file: ${MISSING}`);
  assert.equal(oneError(await cli('quantize', '--recipe', MISSING), 1), `no such file: ${MISSING}`);
});

test('a broken file gets the same precise reader message from every command as from inspect', async () => {
  const inspect = oneError(await cli('inspect', BROKEN), 1);
  assert.match(inspect, /^broken\.onnx is not a valid onnx file: field 7 declares 1006 bytes but its message has only 74 left/);
  assert.equal(oneError(await cli('stats', BROKEN), 1), inspect);
  assert.equal(oneError(await cli('profile', BROKEN), 1), inspect);
  assert.equal(oneError(await cli('quantize', BROKEN, '--method', 'rtn', '--bits', '8'), 1), inspect);
  assert.equal(oneError(await cli('prune', BROKEN, '--method', 'magnitude'), 1), inspect);
  assert.equal(oneError(await cli('bench', BROKEN), 1), inspect);
});

const dir = mkdtempSync(join(tmpdir(), 'quantscope-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a model cut short after its first bytes gets the reader message too, not the protobuf decoder\'s', async () => {
  const cut = join(dir, 'cut.onnx');
  writeFileSync(cut, readFileSync(fixture('onnx', 'transformer.onnx')).subarray(0, 3000));
  const inspect = oneError(await cli('inspect', cut), 1);
  assert.match(inspect, /^cut\.onnx is not a valid onnx file: field 7 declares \d+ bytes but its message has only \d+ left/);
  assert.equal(oneError(await cli('quantize', cut, '--method', 'rtn', '--bits', '8'), 1), inspect);
  assert.equal(oneError(await cli('prune', cut, '--method', 'magnitude'), 1), inspect);
  const empty = join(dir, 'empty.onnx');
  writeFileSync(empty, '');
  assert.equal(oneError(await cli('quantize', empty, '--method', 'rtn', '--bits', '8'), 1), 'empty.onnx: the file is empty');
});

test('with --json every error is also an error object on stdout, and the exit code stays non-zero', async () => {
  assert.deepEqual(jsonError(await cli('inspect', MISSING, '--json'), 1), { message: `no such file: ${MISSING}`, code: 'no-such-file', exitCode: 1, command: 'inspect', path: MISSING });
  assert.deepEqual(jsonError(await cli('stats', FOLDER, '--json'), 1), { message: `${FOLDER} is a folder`, code: 'is-folder', exitCode: 1, command: 'stats', path: FOLDER });
  const wrong = jsonError(await cli('quantize', PYTORCH, '--method', 'rtn', '--bits', '8', '--json'), 1);
  assert.deepEqual([wrong.code, wrong.format, wrong.path], ['wrong-format', 'pytorch', PYTORCH]);
  const usage = jsonError(await cli('inspect', TINY, '--json', '--jsn'), 2);
  assert.deepEqual(usage, { message: 'unknown option --jsn for inspect; did you mean --json?', code: 'usage', exitCode: 2, command: 'inspect' });
  assert.equal(jsonError(await cli('profile', BROKEN, '--json'), 1).code, 'unreadable');
  assert.equal(jsonError(await cli('quantise', TINY, '--json'), 2).code, 'usage');
  // A refused job: TINY as -o already exists.
  const refused = jsonError(await cli('prune', TINY, '--method', 'magnitude', '-o', TINY, '--json'), 1);
  assert.equal(refused.code, 'refused');
  assert.match(refused.message, /already exists/);
});
