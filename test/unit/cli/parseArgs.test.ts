import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandSpec } from '../../../src/cli/CommandSpec';
import { nearestName } from '../../../src/cli/nearestName';
import { parseArgs, UsageError } from '../../../src/cli/parseArgs';

const SPEC: CommandSpec = {
  name: 'demo',
  summary: 'A command for the parser',
  usage: ['demo FILE…'],
  arguments: [{ name: 'FILE', help: 'Files', count: 'one-or-more' }],
  options: [
    { name: 'json', kind: 'flag', help: 'JSON' },
    { name: 'runs', kind: 'int', min: 1, max: 100, help: 'Runs' },
    { name: 'scale', kind: 'number', min: 0, help: 'Scale' },
    { name: 'mode', kind: 'enum', values: ['fast', 'exact'], help: 'Mode' },
    { name: 'tag', kind: 'string', repeatable: true, help: 'Tags' },
    { name: 'output', short: 'o', kind: 'string', placeholder: 'OUT', help: 'Output' },
  ],
  examples: [],
};

test('the parser reads --name value, --name=value, short forms, repeats and -- against the spec', () => {
  const a = parseArgs(SPEC, ['a', '--runs=7', '--scale', '-0', '--mode', 'exact', '--tag', 'x', '--tag=y', '-o', 'out.onnx', '--json', '--', '--not-an-option']);
  assert.deepEqual(a.positional, ['a', '--not-an-option']);
  assert.equal(a.number('runs'), 7);
  assert.equal(a.number('scale'), -0);
  assert.equal(a.choice('mode', ['fast', 'exact'] as const), 'exact');
  assert.deepEqual(a.strings('tag'), ['x', 'y']);
  assert.equal(a.string('output'), 'out.onnx');
  assert.equal(a.json, true);
  assert.equal(a.has('scale'), true);
  assert.equal(parseArgs(SPEC, ['a']).has('runs'), false);
});

test('the parser refuses what the spec does not allow, naming the option and the accepted values', () => {
  const cases: [string[], string][] = [
    [['a', '--run', '3'], 'unknown option --run for demo; did you mean --runs?'],
    [['a', '-x'], 'unknown option -x for demo; see "quantscope help demo"'],
    [['a', '--runs', '0'], '--runs must be an integer from 1 to 100; got "0"'],
    [['a', '--runs', '2.5'], '--runs must be an integer from 1 to 100; got "2.5"'],
    [['a', '--scale', 'big'], '--scale must be a number ≥ 0; got "big"'],
    [['a', '--mode', 'exacct'], '--mode must be fast or exact; got "exacct" (did you mean exact?)'],
    [['a', '--runs'], '--runs needs a value: an integer from 1 to 100'],
    [['a', '--mode', '--json'], '--mode needs a value: fast or exact'],
    [['a', '-o', ''], '-o needs OUT, not an empty one'],
    [['a', '--runs', '1', '--runs', '2'], '--runs is given twice ("1" and "2")'],
    [['--json'], 'demo needs FILE'],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseArgs(SPEC, argv), (e: unknown) => e instanceof UsageError && e.message === message && e.command === 'demo', argv.join(' '));
  }
});

test('nearestName suggests a close name, a name the typed word starts, and nothing for a far or tiny guess', () => {
  const names = ['json', 'bits', 'budget-bits', 'budget-error', 'group', 'format'];
  assert.equal(nearestName('jsn', names), 'json');
  assert.equal(nearestName('jsno', names), 'json');
  assert.equal(nearestName('JSON', names), 'json');
  assert.equal(nearestName('budget', names), 'budget-bits');
  assert.equal(nearestName('fromat', names), 'format');
  assert.equal(nearestName('b', names), undefined);
  assert.equal(nearestName('xyzzy', names), undefined);
});
