import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import { DEFAULT_LIMITS } from '../../../../src/core/formats/FormatReader';
import { openCheckpoint, sniffFormat } from '../../../../src/core/formats/registry';
import { FileAccessor } from '../../../../src/core/io/FileAccessor';
import { checkTensorValues, loadExpected } from '../../support/expectedValues';
import { writeGguf } from '../../support/ggufWriter';
import { fixture } from '../../support/paths';

const tmp = mkdtempSync(join(tmpdir(), 'qs-registry-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const GB = 1024 ** 3;

/** Lists `path` through a fresh accessor and returns how many bytes that read. */
async function listingBytes(path: string): Promise<{ bytes: number; tensors: number }> {
  const file = await FileAccessor.open(path);
  const reader = await sniffFormat(file);
  assert.ok(reader, `no reader for ${path}`);
  const ckpt = await reader.open(file, DEFAULT_LIMITS);
  return { bytes: file.bytesRead, tensors: ckpt.tensors.length };
}

describe('registry', () => {
  it('picks the reader by content, not by name', async () => {
    const cases: [string, string][] = [
      [fixture('safetensors', 'all_dtypes.safetensors'), 'safetensors'],
      [fixture('safetensors', 'sharded', 'model.safetensors.index.json'), 'safetensors'],
      [fixture('numpy', 'f32.npy'), 'numpy'],
      [fixture('numpy', 'stored.npz'), 'numpy'],
      [fixture('gguf', 'blocks_v3.gguf'), 'gguf'],
      [fixture('onnx', 'typed.onnx'), 'onnx'],
      [fixture('pytorch', 'zip.pt'), 'pytorch'],
      [fixture('pytorch', 'legacy.pt'), 'pytorch'],
    ];
    for (const [path, format] of cases) {
      const renamed = join(tmp, 'model.bin');
      writeFileSync(renamed, (await import('node:fs')).readFileSync(path));
      if (path.endsWith('.index.json')) {
        assert.equal((await openCheckpoint(path)).format, format);
        continue;
      }
      assert.equal((await openCheckpoint(renamed)).format, format, path);
    }
  });

  it('decodes the tensors of every format\'s fixtures like numpy', async () => {
    // Each fixture X.ext with an X.expected.json beside it (the npy set is covered by its own test).
    let checked = 0;
    for (const dir of ['safetensors', 'numpy', 'gguf', 'onnx', 'pytorch']) {
      for (const name of readdirSync(fixture(dir))) {
        const m = /^(.*)\.expected\.json$/.exec(name);
        if (!m) continue;
        const model = readdirSync(fixture(dir)).find((f) => f.startsWith(`${m[1]}.`) && !f.endsWith('.json') && !f.endsWith('.py') && !f.endsWith('.data'));
        if (!model || !existsSync(fixture(dir, model))) continue;
        const expected = loadExpected(fixture(dir, name));
        const ckpt = await openCheckpoint(fixture(dir, model));
        for (const t of ckpt.tensors) {
          const e = expected.tensors[t.name] as (typeof expected.tensors)[string] & { unsupported?: boolean } | undefined;
          if (!e || e.unsupported || t.source.kind === 'none') continue;
          await checkTensorValues(t, e, 50);
          checked++;
        }
      }
    }
    assert.ok(checked > 50, `only ${checked} tensors checked`);
  });

  it('explains empty and unknown files', async () => {
    const empty = join(tmp, 'empty.safetensors');
    writeFileSync(empty, '');
    await assert.rejects(openCheckpoint(empty), (e: unknown) => isFormatError(e) && /empty\.safetensors: the file is empty/.test((e as Error).message));
    const elf = join(tmp, 'program.onnx');
    writeFileSync(elf, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0]));
    await assert.rejects(openCheckpoint(elf), (e: unknown) => {
      assert.ok(isFormatError(e));
      // The extension claims ONNX, so the ONNX reader says why it is not, and the bytes are shown.
      assert.match((e as Error).message, /program\.onnx is not a valid onnx file: .* starts with 7f 45 4c 46 02 01 01 00 .* "\.ELF\.\.\.\./);
      return true;
    });
    const unknown = join(tmp, 'program.weights');
    writeFileSync(unknown, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0]));
    await assert.rejects(openCheckpoint(unknown), (e: unknown) => {
      assert.ok(isFormatError(e));
      assert.match((e as Error).message, /program\.weights is not a checkpoint format .* starts with 7f 45 4c 46 02 01 01 00 .* "\.ELF\.\.\.\./);
      return true;
    });
    await assert.rejects(openCheckpoint(join(tmp, 'missing.gguf')), (e: unknown) => isFormatError(e) && /ENOENT/.test((e as Error).message));
  });

  it('lists 10 GB checkpoints by reading only their headers', async () => {
    // safetensors: one 10 GB F16 tensor; the data is a hole in a sparse file.
    const st = join(tmp, 'big.safetensors');
    const n = 5 * GB;
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F16', shape: [n / 1024, 1024], data_offsets: [0, 2 * n] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(st, Buffer.concat([len, header]));
    truncateSync(st, 8 + header.length + 2 * n);
    const a = await listingBytes(st);
    assert.equal(a.tensors, 1);
    assert.ok(a.bytes <= 4096 + 8 + header.length, `safetensors listing read ${a.bytes} bytes`);

    // npy: a 10 GB float32 array.
    const npy = join(tmp, 'big.npy');
    let text = `{'descr': '<f4', 'fortran_order': False, 'shape': (${2.5 * GB / 1024}, 1024), }`;
    while ((10 + text.length + 1) % 64) text += ' ';
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
    pre.writeUInt16LE(text.length + 1, 8);
    writeFileSync(npy, Buffer.concat([pre, Buffer.from(text + '\n')]));
    truncateSync(npy, 10 + text.length + 1 + 10 * GB);
    const b = await listingBytes(npy);
    assert.ok(b.bytes <= 4096 + 256, `npy listing read ${b.bytes} bytes`);

    // GGUF: 70 Q4_K tensors of 16384 x 16384 (144 MB each, 10 GB in all), data as a hole.
    const gg = join(tmp, 'big.gguf');
    const perTensor = (16384 * 16384 / 256) * 144;
    const tensors = Array.from({ length: 70 }, (_, i) => ({ name: `blk.${i}.w`, dims: [16384, 16384], type: 12, data: new Uint8Array(0), offset: i * perTensor }));
    const head = writeGguf([], tensors);
    writeFileSync(gg, head);
    truncateSync(gg, head.length + 70 * perTensor);
    const c = await listingBytes(gg);
    assert.equal(c.tensors, 70);
    assert.ok(c.bytes <= 2 * head.length + (64 << 10) + 4096, `gguf listing read ${c.bytes} bytes`);
  });
});
