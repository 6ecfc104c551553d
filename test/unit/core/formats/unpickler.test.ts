import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import { collectTensors } from '../../../../src/core/formats/pytorch/collectTensors';
import { PyDict, PyTuple, type PyValue } from '../../../../src/core/formats/pytorch/pyValues';
import { findTorchGlobal, TorchStorage, TorchTensor } from '../../../../src/core/formats/pytorch/torchGlobals';
import { Unpickler } from '../../../../src/core/formats/pytorch/Unpickler';
import { fixture } from '../../support/paths';

function load(bytes: Uint8Array | string, maxObjects?: number): PyValue {
  const b = typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes, 'latin1')) : bytes;
  return new Unpickler(b, { findGlobal: findTorchGlobal, maxObjects }).load();
}

/** The JSON form the fixture script writes (make_torch.py `tagged`). */
function tagged(v: PyValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return { int: v.toString() };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (v instanceof PyTuple) return { tuple: v.items.map(tagged) };
  if (Array.isArray(v)) return v.map(tagged);
  if (v instanceof PyDict) return { dict: [...v.entries()].map(([k, x]) => [tagged(k), tagged(x)]) };
  return { unexpected: v.constructor.name };
}

function refused(bytes: string, global: string): void {
  assert.throws(() => load(bytes), (e: unknown) => {
    assert.ok(isFormatError(e), String(e));
    assert.equal(e.message, `refusing to load global ${global}`);
    return true;
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'quantscope-pickle-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

void describe('Unpickler on plain data', () => {
  const expected = JSON.parse(readFileSync(fixture('pytorch', 'pickles', 'expected.json'), 'utf8')) as unknown;
  for (let protocol = 0; protocol <= 5; protocol++) {
    void it(`reads Python's protocol ${protocol} pickle`, () => {
      const v = load(new Uint8Array(readFileSync(fixture('pytorch', 'pickles', `p${protocol}.pkl`))));
      assert.deepEqual(tagged(v), expected);
    });
  }

  void it('keeps shared references shared', () => {
    const v = load(new Uint8Array(readFileSync(fixture('pytorch', 'pickles', 'p2.pkl'))));
    assert.ok(v instanceof PyDict);
    const shared = v.get('shared');
    assert.ok(Array.isArray(shared));
    assert.equal(shared[0], shared[1]);
  });
});

void describe('Unpickler refuses code', () => {
  const marker = join(tmp, 'pwned');
  const cmd = `touch ${marker}`;
  const str = (s: string): string => `X${String.fromCharCode(s.length & 0xff, (s.length >> 8) & 0xff, 0, 0)}${s}`;
  const short = (s: string): string => `\x8c${String.fromCharCode(s.length)}${s}`;
  const globals: [string, string][] = [
    ['os', 'system'], ['builtins', 'eval'], ['subprocess', 'Popen'], ['posix', 'system'], ['__builtin__', 'exec'],
  ];

  for (const [module, name] of globals) {
    const qualified = `${module}.${name}`;
    void it(`refuses ${qualified} named by GLOBAL`, () => {
      refused(`\x80\x02c${module}\n${name}\n${str(cmd)}\x85R.`, qualified);
    });
    void it(`refuses ${qualified} named by STACK_GLOBAL`, () => {
      refused(`\x80\x04${short(module)}${short(name)}\x93${short(cmd)}\x85R.`, qualified);
    });
    void it(`refuses ${qualified} named by INST`, () => {
      refused(`(S'${cmd}'\ni${module}\n${name}\n.`, qualified);
    });
    void it(`refuses ${qualified} named by OBJ`, () => {
      refused(`(c${module}\n${name}\nS'${cmd}'\no.`, qualified);
    });
  }

  void it('never runs the command', () => {
    assert.equal(existsSync(marker), false);
  });

  void it('refuses torch.storage._load_from_bytes with a reason', () => {
    assert.throws(() => load('\x80\x02ctorch.storage\n_load_from_bytes\nC\x01x\x85R.'), (e: unknown) =>
      isFormatError(e) && /^refusing to load global torch\.storage\._load_from_bytes: /.test(e.message));
  });

  void it('refuses calling an allowed global that is only data', () => {
    assert.throws(() => load('\x80\x02ctorch\nFloatStorage\n)R.'), (e: unknown) => isFormatError(e) && /cannot be called/.test(e.message));
  });
});

void describe('Unpickler bounds', () => {
  const bad = (bytes: string, pattern: RegExp, maxObjects?: number): void => {
    assert.throws(() => load(bytes, maxObjects), (e: unknown) => isFormatError(e) && pattern.test(e.message));
  };

  void it('checks lengths against the bytes left before allocating', () => {
    bad('\x80\x02X\xff\xff\xff\xff', /ends early/);
    bad('\x80\x04\x8d\xff\xff\xff\xff\xff\xff\x0f\x00', /ends early/);
    bad('\x80\x02\x8b\xff\xff\xff\x7f', /ends early|too large/);
    bad('\x80\x02B\x00\x00\x00\x80', /ends early/);
  });

  void it('rejects stack underflow, bad memo references and unknown opcodes', () => {
    bad('\x80\x02.', /empty stack/);
    bad('\x80\x02(0.', /empty stack/);
    bad('\x80\x02h\x05.', /memo entry 5/);
    bad('\x80\x02\xff', /unknown pickle opcode 0xff/);
    bad('\x80\x06N.', /unsupported pickle protocol 6/);
    bad('\x80\x02\x82\x01.', /extension registry/);
    bad('\x80\x02N', /ends early/);
  });

  void it('bounds the number of objects', () => {
    bad(`\x80\x02]${'N'.repeat(100)}.`, /more than 50 objects/, 50);
  });

  void it('walks self-referencing containers without looping', () => {
    // l = []; l.append(l): EMPTY_LIST, BINPUT 0, BINGET 0, APPEND
    const v = load('\x80\x02]q\x00h\x00a.');
    assert.ok(Array.isArray(v));
    assert.equal(v[0], v);
    assert.deepEqual(collectTensors(v, 1000).tensors, []);
  });

  void it('keeps a __proto__ key as data', () => {
    const v = load('\x80\x02}X\x09\x00\x00\x00__proto__K\x07s.');
    const { scalars } = collectTensors(v, 100);
    assert.deepEqual(Object.keys(scalars), ['__proto__']);
    assert.equal(Object.getPrototypeOf(scalars), Object.prototype);
  });

  void it('bounds the walk of diamond-shaped object graphs', () => {
    // x = [x0, x0] nested 40 times: 2^40 paths.
    let p = '\x80\x02N';
    for (let i = 0; i < 40; i++) p += '2\x86';
    const v = load(`${p}.`);
    assert.throws(() => collectTensors(v, 100_000), (e: unknown) => isFormatError(e) && /more than 100000 references/.test(e.message));
  });
});

void describe('torch rebuild functions', () => {
  const call = (module: string, name: string, args: PyValue[]): PyValue => {
    const g = findTorchGlobal(module, name);
    assert.ok(g.call, `${module}.${name} is callable`);
    return g.call(args);
  };

  void it('reads an untyped storage as the dtype _rebuild_tensor_v3 names', () => {
    const storage = new TorchStorage('0', 'U8', 1, 16, 'cpu');
    const t = call('torch._utils', '_rebuild_tensor_v3', [
      storage, 2, new PyTuple([2, 3]), new PyTuple([3, 1]), false, new PyDict(), findTorchGlobal('torch', 'float16'),
    ]);
    assert.ok(t instanceof TorchTensor);
    assert.equal(t.dtype, 'F16');
    assert.equal(t.itemSize, 2);
    assert.equal(t.offset, 2);
  });

  void it('refuses views that reach past their storage', () => {
    const storage = new TorchStorage('0', 'F32', 4, 10, 'cpu');
    assert.throws(() => call('torch._utils', '_rebuild_tensor_v2', [storage, 5, new PyTuple([2, 3]), new PyTuple([3, 1]), false, new PyDict()]),
      (e: unknown) => isFormatError(e) && /reaches past its storage of 10 elements/.test(e.message));
    assert.throws(() => call('torch._utils', '_rebuild_tensor_v2', [storage, 0, new PyTuple([2]), new PyTuple([1, 1]), false, new PyDict()]),
      (e: unknown) => isFormatError(e) && /differ in rank/.test(e.message));
  });

  void it('unwraps parameters and builds OrderedDicts from pairs', () => {
    const storage = new TorchStorage('0', 'F32', 4, 4, 'cpu');
    const t = call('torch._utils', '_rebuild_tensor_v2', [storage, 0, new PyTuple([4]), new PyTuple([1]), false, new PyDict()]);
    assert.equal(call('torch._utils', '_rebuild_parameter', [t, true, new PyDict()]), t);
    const d = call('collections', 'OrderedDict', [[new PyTuple(['a', 1]), new PyTuple(['b', 2])]]);
    assert.ok(d instanceof PyDict);
    assert.equal(d.get('b'), 2);
  });
});
