import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../../src/cli/commands';
import { allOptions } from '../../../src/cli/CommandSpec';
import { repoRoot } from '../support/paths';
import { cli, cliProcess } from './runCliCapture';

test('every command has its own help, from "help CMD" and "CMD --help" alike: its options, defaults and an example', async () => {
  const global = await cli('--help');
  for (const { spec } of COMMANDS) {
    const viaHelp = await cli('help', spec.name);
    const viaFlag = await cli(spec.name, '--help');
    assert.equal(viaHelp.code, 0);
    assert.equal(viaFlag.code, 0);
    assert.equal(viaHelp.out, viaFlag.out, `${spec.name}: both forms print the same page`);
    assert.notEqual(viaHelp.out, global.out, `${spec.name}: not the global help`);
    assert.match(viaHelp.out, new RegExp(`^Usage: quantscope ${spec.name} `));
    assert.match(viaHelp.out, /\nExamples?:\n {2}quantscope /);
    assert.match(viaHelp.out, /Exit codes: 0 success, 1 failure .*2 usage error/s);
    // Help text wraps at any space; compare with the spaces and line breaks folded.
    const flat = viaHelp.out.replace(/\s+/g, ' ');
    for (const o of allOptions(spec)) {
      assert.ok(flat.includes(o.short ? `-${o.short} ` : `--${o.name}`), `${spec.name} help lists --${o.name}`);
      if (o.default !== undefined && o.kind !== 'flag') assert.ok(flat.includes(`default ${String(o.default)}`), `${spec.name} help gives the default of --${o.name}`);
    }
  }
  const quantize = (await cli('help', 'quantize')).out.replace(/\s+/g, ' ');
  assert.match(quantize, /--alpha X Migration strength.*\(0 to 1; default 0\.5\)/);
  assert.match(quantize, /--bits 8\|4\|3/);
  assert.match(quantize, /GPTQ options: --act-order/);
  assert.match((await cli('stats', '-h')).out.replace(/\s+/g, ' '), /--group N Group size of the INT4 group scheme \(≥ 1; default 128\)/);
});

test('the global help lists every command and the exit codes; no command at all is a usage error', async () => {
  const help = await cli('--help');
  assert.equal(help.code, 0);
  for (const { spec } of COMMANDS) assert.match(help.out, new RegExp(`^ {2}${spec.name} +\\S`, 'm'));
  assert.match(help.out, /Exit codes: 0 success, 1 failure .*2 usage error, 130\s+interrupted/s);
  assert.deepEqual(await cli('help'), help);
  const none = await cli();
  assert.equal(none.code, 2);
  assert.equal(none.out, '');
  assert.equal(none.err, help.out);
  const unknown = await cli('help', 'quantise');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^quantscope: unknown command "quantise"; did you mean quantize\?/);
});

test('--version prints the version of package.json, from the built bundle', () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  const r = cliProcess('--version');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `quantscope ${version}\n`);
});

test('the built bundle exits 0 on help, 2 on a usage mistake and 1 on a failure', () => {
  const help = cliProcess('inspect', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: quantscope inspect FILE/);
  const usage = cliProcess('inspect', 'model.onnx', '--jsn');
  assert.equal(usage.code, 2);
  assert.match(usage.err, /unknown option --jsn for inspect; did you mean --json\?/);
  const failure = cliProcess('inspect', 'no-such-model.onnx');
  assert.equal(failure.code, 1);
  assert.equal(failure.err, 'quantscope: no such file: no-such-model.onnx\n');
});
