import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TargetExistsError } from '../../../../src/core/io/atomicWrite';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { littleEndianBytes, writeSafetensors } from '../../../../src/core/formats/safetensors/safetensorsWriter';

const tmp = mkdtempSync(join(tmpdir(), 'qs-st-writer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('safetensors writer', () => {
  it('writes a header padded to 8 bytes with contiguous offsets that our reader validates', async () => {
    const file = join(tmp, 'a.safetensors');
    const f32 = Float32Array.from([1, -2, 3.5, 0, 7, 8]);
    const i32 = Int32Array.from([-1, 2 ** 31 - 1, 5]);
    const u8 = Uint8Array.from([1, 2, 3]);
    await writeSafetensors(file, [
      { name: 'w', dtype: 'F32', shape: [2, 3], data: littleEndianBytes(f32) },
      { name: 'q', dtype: 'I32', shape: [3], data: () => Promise.resolve(littleEndianBytes(i32)) },
      { name: 'b', dtype: 'U8', shape: [3], data: u8 },
    ], { metadata: { format: 'pt' } });
    const raw = readFileSync(file);
    const n = Number(raw.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets: number[] }>;
    assert.deepEqual(header.__metadata__, { format: 'pt' });
    assert.deepEqual(header.w.data_offsets, [0, 24]);
    assert.deepEqual(header.q.data_offsets, [24, 36]);
    assert.deepEqual(header.b.data_offsets, [36, 39]);
    assert.equal(raw.length, 8 + n + 39);
    const ckpt = await openCheckpoint(file);
    assert.deepEqual(ckpt.tensors.map((t) => [t.name, t.dtype, t.shape]), [['w', 'F32', [2, 3]], ['q', 'I32', [3]], ['b', 'U8', [3]]]);
    assert.deepEqual(new Float32Array(raw.buffer.slice(raw.byteOffset + 8 + n, raw.byteOffset + 8 + n + 24)), f32);
    assert.equal(raw.readInt32LE(8 + n + 24), -1);
  });

  it('never replaces an existing file and leaves no temporary file after a failure', async () => {
    const file = join(tmp, 'b.safetensors');
    writeFileSync(file, 'keep');
    await assert.rejects(writeSafetensors(file, [{ name: 'x', dtype: 'U8', shape: [1], data: new Uint8Array(1) }]), TargetExistsError);
    assert.equal(readFileSync(file, 'utf8'), 'keep');
    const other = join(tmp, 'c.safetensors');
    await assert.rejects(writeSafetensors(other, [{ name: 'x', dtype: 'F16', shape: [4], data: new Uint8Array(6) }]), /x has 6 bytes, but shape \[4\] of F16 needs 8/);
    assert.equal(existsSync(other), false);
    assert.deepEqual(readdirSync(tmp).filter((f) => f.endsWith('.tmp')), []);
    await assert.rejects(writeSafetensors(other, [{ name: 'x', dtype: 'U8', shape: [1], data: new Uint8Array(1) }, { name: 'x', dtype: 'U8', shape: [1], data: new Uint8Array(1) }]), /listed twice/);
  });
});
