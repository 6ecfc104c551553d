import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileAccessor } from '../../../../src/core/io/FileAccessor';
import { ZipArchive } from '../../../../src/core/io/ZipArchive';
import { isFormatError } from '../../../../src/core/FormatError';
import { fixture } from '../../support/paths';

type Expected = Record<string, { size: number; sha256: string }>;
const expected = JSON.parse(readFileSync(fixture('zip', 'zips.expected.json'), 'utf8')) as Expected;

function sha(chunks: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(Uint8Array.from(c));
  return out;
}

async function withZip<T>(path: string, fn: (z: ZipArchive, f: FileAccessor) => T | Promise<T>): Promise<T> {
  const f = await FileAccessor.open(path);
  const z = await ZipArchive.open(f);
  try {
    return await fn(z, f);
  } finally {
    z.close();
    await f.close();
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'quantscope-zip-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const name of ['stored.zip', 'deflated.zip', 'zip64.zip', 'infozip64.zip']) {
  void describe(`ZipArchive on ${name}`, () => {
    void it('lists every member with sizes and a method', async () => {
      await withZip(fixture('zip', name), (z) => {
        assert.deepEqual(z.entries.map((e) => e.name).sort(), Object.keys(expected).sort());
        for (const e of z.entries) {
          assert.equal(e.uncompressedSize, expected[e.name].size, e.name);
          if (name === 'stored.zip') assert.equal(e.method, 'stored');
          if (name !== 'stored.zip' && e.uncompressedSize > 0) assert.equal(e.method, 'deflate');
        }
      });
    });

    void it('reads each member whole and matches its hash', async () => {
      await withZip(fixture('zip', name), async (z) => {
        for (const e of z.entries) assert.equal(sha([await z.read(e, 1 << 20)]), expected[e.name].sha256, e.name);
      });
    });

    void it('streams ranges of each member', async () => {
      await withZip(fixture('zip', name), async (z) => {
        for (const e of z.entries) {
          assert.equal(sha(await collect(z.stream(e))), expected[e.name].sha256, e.name);
          const whole = await z.read(e, 1 << 20);
          const a = Math.floor(e.uncompressedSize / 3);
          const b = Math.floor((2 * e.uncompressedSize) / 3) + 1;
          const part = Buffer.concat(await collect(z.stream(e, a, Math.min(b, e.uncompressedSize))));
          assert.deepEqual(new Uint8Array(part), whole.subarray(a, Math.min(b, e.uncompressedSize)), e.name);
        }
      });
    });
  });
}

void describe('ZipArchive data offsets', () => {
  void it('points dataOffset at the raw bytes of a stored member', async () => {
    await withZip(fixture('zip', 'stored.zip'), async (z, f) => {
      const e = z.entry('noise.bin')!;
      const raw = await f.read(e.dataOffset, e.compressedSize);
      assert.equal(sha([raw]), expected['noise.bin'].sha256);
    });
  });

  void it('accounts for the zip64 extra field of forced zip64 local headers', async () => {
    await withZip(fixture('zip', 'zip64.zip'), (z) => {
      const e = z.entry('dir/hello.txt')!;
      assert.ok(e.dataOffset >= 30 + 'dir/hello.txt'.length + 20);
    });
  });
});

void describe('ZipArchive errors', () => {
  async function openBytes(bytes: Uint8Array, label: string): Promise<unknown> {
    const p = join(tmp, label);
    writeFileSync(p, bytes);
    const f = await FileAccessor.open(p);
    try {
      const z = await ZipArchive.open(f);
      for (const e of z.entries) await z.read(e, 1 << 20);
      z.close();
      return undefined;
    } catch (e) {
      return e;
    } finally {
      await f.close();
    }
  }

  void it('says "not a zip file" for other bytes and empty files', async () => {
    for (const [label, bytes] of [['random', new Uint8Array(1000).fill(7)], ['empty', new Uint8Array(0)]] as const) {
      const e = await openBytes(bytes, label);
      assert.ok(isFormatError(e), label);
      assert.match((e as Error).message, /not a zip file/);
    }
  });

  void it('gives a FormatError for every truncation', async () => {
    const bytes = readFileSync(fixture('zip', 'deflated.zip'));
    for (let n = 0; n < bytes.length; n += 37) {
      const e = await openBytes(bytes.subarray(0, n), `trunc${n}`);
      assert.ok(isFormatError(e), `truncated at ${n}: ${String(e)}`);
    }
  });

  void it('reports corrupt deflate data and bad local headers', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('zip', 'deflated.zip')));
    const local = bytes.slice();
    local[0] = 0x51; // first local header signature
    const e1 = await openBytes(local, 'badlocal');
    assert.ok(isFormatError(e1));
    assert.match((e1 as Error).message, /bad local header/);

    const corrupt = bytes.slice();
    const f = await FileAccessor.open(fixture('zip', 'deflated.zip'));
    const z = await ZipArchive.open(f);
    const ramp = z.entry('dir/ramp.bin')!;
    z.close();
    await f.close();
    for (let i = 0; i < ramp.compressedSize; i += 3) corrupt[ramp.dataOffset + i] = 0xff;
    const e2 = await openBytes(corrupt, 'badinflate');
    assert.ok(isFormatError(e2), String(e2));
    assert.match((e2 as Error).message, /ramp\.bin/);
  });

  void it('refuses members larger than maxBytes and ranges outside the member', async () => {
    await withZip(fixture('zip', 'stored.zip'), async (z) => {
      const e = z.entry('dir/ramp.bin')!;
      await assert.rejects(z.read(e, 10), (err: unknown) => isFormatError(err) && /more than/.test((err as Error).message));
      await assert.rejects(collect(z.stream(e, 0, e.uncompressedSize + 1)), (err: unknown) => isFormatError(err));
    });
  });

  void it('refuses a lying entry count before listing', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('zip', 'stored.zip')));
    const eocd = bytes.length - 22;
    assert.equal(bytes[eocd], 0x50);
    bytes[eocd + 8] = 0xff; bytes[eocd + 9] = 0xff; bytes[eocd + 10] = 0xff; bytes[eocd + 11] = 0xff;
    const e = await openBytes(bytes, 'lyingcount');
    assert.ok(isFormatError(e), String(e));
  });
});
