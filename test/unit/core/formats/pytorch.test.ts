import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import type { Checkpoint } from '../../../../src/core/formats/Checkpoint';
import { DEFAULT_LIMITS } from '../../../../src/core/formats/FormatReader';
import { pytorchReader } from '../../../../src/core/formats/pytorch/pytorchReader';
import { FileAccessor } from '../../../../src/core/io/FileAccessor';
import { checkTensorValues, loadExpected } from '../../support/expectedValues';
import { fixture } from '../../support/paths';

async function open(path: string): Promise<{ checkpoint: Checkpoint; sniffed: boolean; file: FileAccessor }> {
  const file = await FileAccessor.open(path);
  const head = await file.read(0, Math.min(4096, file.size));
  const sniffed = await pytorchReader.sniff(head, file);
  file.bytesRead = 0;
  return { checkpoint: await pytorchReader.open(file, DEFAULT_LIMITS), sniffed, file };
}

const VARIANTS: Record<string, string> = {
  zip: 'zip', legacy: 'legacy', nested: 'zip', dtypes: 'zip', dtypes_legacy: 'legacy',
  views: 'zip', views_legacy: 'legacy', scripted: 'torchscript', traced: 'torchscript', bigendian: 'zip', deflated: 'zip',
};

const tmp = mkdtempSync(join(tmpdir(), 'quantscope-torch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const [name, variant] of Object.entries(VARIANTS)) {
  void describe(`PyTorch fixture ${name}.pt`, () => {
    void it(`sniffs, opens as ${variant} and matches numpy's values`, async () => {
      const exp = loadExpected(fixture('pytorch', `${name}.expected.json`));
      const { checkpoint: c, sniffed } = await open(fixture('pytorch', `${name}.pt`));
      assert.ok(sniffed);
      assert.equal(c.format, 'pytorch');
      assert.equal(c.metadata.variant, variant);
      assert.deepEqual(c.tensors.map((t) => t.name).sort(), Object.keys(exp.tensors).sort());
      for (const t of c.tensors) await checkTensorValues(t, exp.tensors[t.name]);
    });
  });
}

void describe('PyTorch details', () => {
  void it('names nested checkpoint tensors by dotted path and keeps scalars as metadata', async () => {
    const { checkpoint: c } = await open(fixture('pytorch', 'nested.pt'));
    const names = c.tensors.map((t) => t.name);
    assert.ok(names.includes('model.fc.weight'));
    assert.ok(names.includes('optimizer.state.0.exp_avg'));
    const values = c.metadata.values as Record<string, unknown>;
    assert.equal(values.epoch, 3);
    assert.equal(values['optimizer.param_groups.0.lr'], 0.001);
  });

  void it('points at zip members when storages are deflated', async () => {
    const { checkpoint: c } = await open(fixture('pytorch', 'deflated.pt'));
    assert.ok(c.tensors.every((t) => t.source.kind === 'zip' && t.source.member.startsWith('deflated/data/')));
  });

  void it('records strides and the storage span of views', async () => {
    const { checkpoint: c } = await open(fixture('pytorch', 'views.pt'));
    const byName = new Map(c.tensors.map((t) => [t.name, t]));
    assert.equal(byName.get('base')?.strides, undefined);
    assert.deepEqual(byName.get('transposed')?.strides, [1, 8]);
    assert.deepEqual(byName.get('stepped')?.strides, [16, 3]);
    const base = byName.get('base')?.source;
    const row = byName.get('row')?.source;
    assert.ok(base?.kind === 'file' && row?.kind === 'file');
    assert.equal(row.offset, base.offset + 2 * 8 * 4);
    assert.equal(row.length, 8 * 4);
  });

  void it('lists a legacy checkpoint without reading its storages', async () => {
    // The pickles of a real legacy file followed by one 4 MiB storage record.
    const { checkpoint: small } = await open(fixture('pytorch', 'views_legacy.pt'));
    const first = small.tensors[0].source;
    assert.ok(first.kind === 'file');
    const prefix = readFileSync(fixture('pytorch', 'views_legacy.pt')).subarray(0, first.offset - 8);
    const count = new Uint8Array(8);
    new DataView(count.buffer).setUint32(0, 1 << 20, true);
    const p = join(tmp, 'big-legacy.pt');
    writeFileSync(p, Buffer.concat([prefix, count, new Uint8Array(4 << 20)]));
    const { checkpoint: c, file } = await open(p);
    assert.ok(file.bytesRead < 80 * 1024, `read ${file.bytesRead} bytes`);
    assert.equal(c.tensors.length, small.tensors.length);
    assert.equal(c.metadata.storages, 1);
  });

  void it('does not claim npz or random zips, and reports a zip without data.pkl', async () => {
    const zip = fixture('zip', 'deflated.zip');
    const f = await FileAccessor.open(zip);
    assert.equal(await pytorchReader.sniff(await f.read(0, 64), f), false);
    await assert.rejects(pytorchReader.open(f, DEFAULT_LIMITS), (e: unknown) => isFormatError(e) && /no data\.pkl/.test(e.message));
  });
});

void describe('PyTorch bad input', () => {
  async function openBytes(bytes: Uint8Array, label: string): Promise<unknown> {
    const p = join(tmp, label);
    writeFileSync(p, bytes);
    const f = await FileAccessor.open(p);
    try {
      await pytorchReader.open(f, DEFAULT_LIMITS);
      return undefined;
    } catch (e) {
      return e;
    }
  }

  void it('refuses malicious checkpoints naming a global, and runs nothing', async () => {
    for (const name of ['malicious_zip', 'malicious_legacy']) {
      const e = await openBytes(readFileSync(fixture('pytorch', `${name}.pt`)), `${name}.pt`);
      assert.ok(isFormatError(e), String(e));
      assert.match(e.message, /refusing to load global (os|posix)\.system/);
    }
  });

  void it('gives a FormatError for every truncation', async () => {
    for (const name of ['zip', 'legacy', 'nested', 'scripted']) {
      const bytes = readFileSync(fixture('pytorch', `${name}.pt`));
      const step = Math.max(1, Math.floor(bytes.length / 60));
      for (let n = 0; n < bytes.length; n += step) {
        const e = await openBytes(bytes.subarray(0, n), `${name}-${n}.pt`);
        assert.ok(isFormatError(e), `${name} truncated at ${n}: ${String(e)}`);
      }
    }
  });

  void it('gives only FormatErrors for random byte flips', async () => {
    let seed = 99;
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % k;
    };
    for (const name of ['zip', 'legacy']) {
      const bytes = readFileSync(fixture('pytorch', `${name}.pt`));
      for (let i = 0; i < 100; i++) {
        const b = new Uint8Array(bytes);
        for (let j = 0; j < 3; j++) b[rand(b.length)] = rand(256);
        const e = await openBytes(b, `${name}-flip-${i}.pt`);
        assert.ok(e === undefined || isFormatError(e), `${name} flip ${i}: ${String(e)}`);
      }
    }
  });

  void it('refuses a legacy storage count past the end of the file', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('pytorch', 'views_legacy.pt')));
    // The single storage record starts 8 bytes before the data of `base`.
    const { checkpoint } = await open(fixture('pytorch', 'views_legacy.pt'));
    const src = checkpoint.tensors[0].source;
    assert.ok(src.kind === 'file');
    new DataView(bytes.buffer).setUint32(src.offset - 8 + 4, 0x100, true); // 2^40 elements
    const e = await openBytes(bytes, 'lying-count.pt');
    assert.ok(isFormatError(e) && /declares 1099511627824 elements/.test(e.message), String(e));
  });
});
