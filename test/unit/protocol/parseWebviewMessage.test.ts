import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchWebviewMessage, parseEditorWebviewMessage, parseOutliersWebviewMessage } from '../../../src/protocol/parseWebviewMessage';
import { seededRandom } from '../../../src/core/random/seededRandom';

test('the messages the pages send pass unchanged', () => {
  const editor: unknown[] = [
    { type: 'ready' },
    { type: 'reload' },
    { type: 'command', command: 'quantize' },
    { type: 'command', command: 'profile', layer: 'model.layers.0.mlp.down_proj' },
    { type: 'applyFix', layer: '/fc1/MatMul', fix: { kind: 'smoothquant', alpha: 0.65 } },
    { type: 'applyFix', layer: '/fc1/MatMul', fix: { kind: 'llmint8', threshold: 6 } },
    { type: 'applyFix', layer: '/fc1/MatMul', fix: { kind: 'prune-2:4' } },
    { type: 'planServing', settings: { budgetBytes: 24 * 2 ** 30, weights: 'int4', kv: 'fp8', blockSize: 16, contextLength: 4096, prefillTokens: 512, int4GroupSize: 128 } },
  ];
  for (const m of editor) assert.deepEqual(parseEditorWebviewMessage(m), { ok: true, message: m });
  const outliers: unknown[] = [{ type: 'ready' }, { type: 'reveal', source: 'experts', row: 3 }, { type: 'revealLayer', layer: 'l' }, { type: 'applyFix', layer: 'l', fix: { kind: 'keep-float' } }];
  for (const m of outliers) assert.deepEqual(parseOutliersWebviewMessage(m), { ok: true, message: m });
  assert.deepEqual(parseBenchWebviewMessage({ type: 'ready' }), { ok: true, message: { type: 'ready' } });
});

test('a field the page left undefined is dropped, and so is anything the message should not carry', () => {
  assert.deepEqual(parseEditorWebviewMessage({ type: 'command', command: 'prune', layer: undefined }), { ok: true, message: { type: 'command', command: 'prune' } });
  assert.deepEqual(parseEditorWebviewMessage({ type: 'planServing', settings: { weights: undefined, kv: 'int8' } }), { ok: true, message: { type: 'planServing', settings: { kv: 'int8' } } });
  assert.deepEqual(parseEditorWebviewMessage({ type: 'applyFix', layer: 'l', fix: { kind: 'int8-channel', script: 'x' }, extra: 1 }), { ok: true, message: { type: 'applyFix', layer: 'l', fix: { kind: 'int8-channel' } } });
});

test('malformed and unknown messages are refused with the reason', () => {
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    ['ready', /not an object/],
    [[{ type: 'ready' }], /not an object/],
    [{ type: 'runShell', command: 'rm -rf /' }, /unknown message type "runShell"/],
    [{ type: 'command', command: 'workbench.action.terminal.new' }, /command is not one of profile, calibrate/],
    [{ type: 'command', command: 'quantize', layer: 42 }, /layer is not a name/],
    [{ type: 'command', command: 'quantize', layer: 'x'.repeat(5000) }, /layer is not a name of 1 to 4096/],
    [{ type: 'applyFix', layer: 'l' }, /fix is not an object/],
    [{ type: 'applyFix', layer: 'l', fix: { kind: 'smoothquant', alpha: 7 } }, /fix.alpha is not a number in \[0, 1\]/],
    [{ type: 'applyFix', layer: 'l', fix: { kind: 'smoothquant', alpha: Number.NaN } }, /fix.alpha/],
    [{ type: 'applyFix', layer: 'l', fix: { kind: 'delete' } }, /fix.kind is not one of/],
    [{ type: 'planServing', settings: { budgetBytes: -1 } }, /budgetBytes is not a number/],
    [{ type: 'planServing', settings: { blockSize: 1.5 } }, /settings.blockSize is not a positive integer/],
    [{ type: 'planServing', settings: { __proto__: { x: 1 }, kv: 'fp4' } }, /kv is not one of fp16, fp8, int8/],
    [{ type: 'planServing', settings: { shell: 'x' } }, /unknown field "shell"/],
  ];
  for (const [m, reason] of cases) {
    const r = parseEditorWebviewMessage(m);
    assert.equal(r.ok, false, JSON.stringify(m));
    if (!r.ok) assert.match(r.reason, reason);
  }
  const o = parseOutliersWebviewMessage({ type: 'reveal', source: 'weights', row: -1 });
  assert.ok(!o.ok && /row is not a row index/.test(o.reason));
  const b = parseBenchWebviewMessage({ type: 'command', command: 'profile' });
  assert.ok(!b.ok && /unknown message type "command"/.test(b.reason));
});

test('random values never throw: each is either a message of the protocol or refused (seed printed on failure)', () => {
  const seed = Number(process.env.QUANTSCOPE_FUZZ_SEED ?? 7);
  const random = seededRandom(seed);
  const atoms: unknown[] = [undefined, null, true, 0, -1, 1e308, Number.NaN, '', 'ready', 'command', 'applyFix', 'planServing', 'reveal', 'quantize', 'smoothquant', 'int4', [], {}];
  const keys = ['type', 'command', 'layer', 'fix', 'kind', 'alpha', 'threshold', 'settings', 'budgetBytes', 'weights', 'kv', 'blockSize', 'source', 'row'];
  const value = (depth: number): unknown => {
    if (depth > 3 || random() < 0.4) return atoms[Math.floor(random() * atoms.length)];
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(random() * 5); i > 0; i--) o[keys[Math.floor(random() * keys.length)]] = value(depth + 1);
    return o;
  };
  for (let i = 0; i < 20_000; i++) {
    const v = value(0);
    for (const parse of [parseEditorWebviewMessage, parseOutliersWebviewMessage, parseBenchWebviewMessage]) {
      let r: ReturnType<typeof parse>;
      try {
        r = parse(v);
      } catch (e) {
        assert.fail(`seed ${seed}, case ${i}: ${JSON.stringify(v)} threw ${String(e)}`);
      }
      if (r.ok) assert.equal(typeof r.message.type, 'string');
      else assert.ok(r.reason.length > 0);
    }
  }
});
