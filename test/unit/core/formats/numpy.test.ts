import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { parsePythonLiteral } from '../../../../src/core/formats/numpy/pythonLiteral';
import { readTensor } from '../../../../src/core/tensor/TensorReader';
import { checkTensorValues, loadExpected } from '../../support/expectedValues';
import { fixture } from '../../support/paths';

const tmp = mkdtempSync(join(tmpdir(), 'qs-numpy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** An .npy file (version 1.0) with the given header text and data. */
function npy(header: string, data: Uint8Array = new Uint8Array(0), major = 1): Buffer {
  const prefix = major === 1 ? 10 : 12;
  let text = header;
  while ((prefix + text.length + 1) % 64 !== 0) text += ' ';
  text += '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(head);
  if (major === 1) head.writeUInt16LE(text.length, 8);
  else head.writeUInt32LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1'), data]);
}

async function rejects(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const p = join(tmp, 'bad.npy');
  writeFileSync(p, bytes);
  await assert.rejects(openCheckpoint(p), (e: unknown) => {
    assert.ok(isFormatError(e), `expected FormatError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

describe('numpy .npy', () => {
  const expected = loadExpected(fixture('numpy', 'npy.expected.json'));
  for (const name of Object.keys(expected.tensors)) {
    it(`reads ${name}.npy like numpy`, async () => {
      const ckpt = await openCheckpoint(fixture('numpy', `${name}.npy`));
      assert.equal(ckpt.format, 'numpy');
      assert.equal(ckpt.tensors.length, 1);
      const t = ckpt.tensors[0];
      assert.equal(t.name, name);
      assert.equal(t.littleEndian, !name.endsWith('_be'));
      assert.equal(t.fortranOrder === true, name.includes('fortran'));
      await checkTensorValues(t, expected.tensors[name]);
    });
  }

  it('reads header versions 2.0 and 3.0', async () => {
    for (const v of ['v2', 'v3']) {
      const ckpt = await openCheckpoint(fixture('numpy', `${v}.npy`));
      await checkTensorValues(ckpt.tensors[0], loadExpected(fixture('numpy', `${v}.expected.json`)).tensors[v]);
    }
  });

  it('streams a Fortran-ordered array in storage order unless row-major is asked for', async () => {
    const ckpt = await openCheckpoint(fixture('numpy', 'f64_fortran.npy'));
    const t = ckpt.tensors[0];
    const rowMajor = await readTensor(t, { float64: true });
    const e = expected.tensors.f64_fortran;
    assert.deepEqual(Array.from(rowMajor.subarray(0, 8)), e.first);
    // Column-major storage: element [1,0] comes second.
    const { readTensorChunks } = await import('../../../../src/core/tensor/TensorReader');
    const stored: number[] = [];
    for await (const c of readTensorChunks(t, { float64: true })) stored.push(...c);
    assert.equal(stored[1], rowMajor[5]);
  });

  it('parses Python literals without evaluating them', () => {
    assert.deepEqual(parsePythonLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), new Map<string, unknown>([['descr', '<f4'], ['fortran_order', false], ['shape', [3, 4]]]));
    assert.deepEqual(parsePythonLiteral('(7,)'), [7]);
    assert.deepEqual(parsePythonLiteral('(10L, 2L)'), [10, 2]);
    assert.throws(() => parsePythonLiteral("__import__('os').system('echo hi')"), /not a valid Python literal/);
    assert.throws(() => parsePythonLiteral('['.repeat(100)), /nesting too deep/);
  });

  it('refuses bad headers with clear errors', async () => {
    await rejects(npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"), /object arrays/);
    await rejects(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"), /structured/);
    await rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }"), /shape \(1099511627776\) of <f4 \(2\^42 bytes\) but only 0 bytes follow the header/);
    await rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), /not a dimension/);
    await rejects(npy("{'descr': '<f4', 'shape': (1,), }"), /lacks one of/);
    await rejects(npy("os.system('rm -rf /')"), /not a valid Python literal/);
    await rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4), 4), /version 4\.0/);
    const truncated = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }").subarray(0, 40);
    await rejects(truncated, /header declares 118 bytes but only 30 bytes follow/);
  });
});

describe('numpy .npz', () => {
  for (const kind of ['stored', 'compressed']) {
    it(`reads a ${kind} npz`, async () => {
      const expected = loadExpected(fixture('numpy', `${kind}.expected.json`));
      const ckpt = await openCheckpoint(fixture('numpy', `${kind}.npz`));
      assert.equal(ckpt.format, 'numpy');
      assert.equal(ckpt.metadata.compressed, kind === 'compressed');
      assert.deepEqual(ckpt.tensors.map((t) => t.name).sort(), Object.keys(expected.tensors).sort());
      for (const t of ckpt.tensors) {
        assert.equal(t.source.kind, t.dtype === 'STRING' ? 'none' : kind === 'stored' ? 'file' : 'zip');
        if (t.dtype === 'STRING') {
          await assert.rejects(readTensor(t), /string arrays have no numeric values/);
          continue;
        }
        await checkTensorValues(t, expected.tensors[t.name]);
      }
    });
  }
});
