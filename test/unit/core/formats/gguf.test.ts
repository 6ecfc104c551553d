import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import type { TensorInfo } from '../../../../src/core/formats/Checkpoint';
import { openCheckpoint } from '../../../../src/core/formats/registry';
import { readTensor } from '../../../../src/core/tensor/TensorReader';
import { checkTensorValues, loadExpected } from '../../support/expectedValues';
import { f16Bits, GGUF_TYPE, writeGguf, type GgufTensor } from '../../support/ggufWriter';
import { fixture } from '../../support/paths';

const tmp = mkdtempSync(join(tmpdir(), 'qs-gguf-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

function save(bytes: Uint8Array): string {
  const p = join(tmp, `t${counter++}.gguf`);
  writeFileSync(p, bytes);
  return p;
}

async function rejects(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  await assert.rejects(openCheckpoint(save(bytes)), (e: unknown) => {
    assert.ok(isFormatError(e), `expected FormatError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

async function single(t: GgufTensor): Promise<TensorInfo> {
  const ckpt = await openCheckpoint(save(writeGguf([], [t])));
  return ckpt.tensors[0];
}

describe('GGUF', () => {
  it('reads every metadata type and decodes every block type like ggml', async () => {
    const expected = loadExpected(fixture('gguf', 'blocks_v3.expected.json'));
    const ckpt = await openCheckpoint(fixture('gguf', 'blocks_v3.gguf'));
    assert.equal(ckpt.format, 'gguf');
    const meta = expected.metadata ?? {};
    for (const [k, v] of Object.entries(meta)) {
      if (k === 't.u64' || k === 't.i64') continue;
      assert.deepEqual(ckpt.metadata[k], v, `metadata ${k}`);
    }
    assert.equal(ckpt.metadata['t.u64'], 2 ** 40 + 3);
    assert.equal(ckpt.metadata['t.i64'], -(2 ** 41));
    assert.deepEqual(ckpt.tensors.map((t) => t.name), Object.keys(expected.tensors).sort((a, b) => ckpt.tensors.findIndex((t) => t.name === a) - ckpt.tensors.findIndex((t) => t.name === b)));
    for (const t of ckpt.tensors) {
      const e = expected.tensors[t.name] as typeof expected.tensors[string] & { unsupported?: boolean };
      assert.equal(t.source.kind === 'file' && t.source.offset % 64, 0, `${t.name} is aligned to general.alignment`);
      if (e.unsupported) {
        assert.equal(t.dtype, e.dtype);
        assert.deepEqual(t.shape, e.shape);
        await assert.rejects(readTensor(t), /statistics not supported for GGML type IQ2_XXS/);
        continue;
      }
      await checkTensorValues(t, e, 100);
      await checkTensorValues(t, e, 1 << 20);
    }
  });

  it('reads GGUF version 2', async () => {
    const expected = loadExpected(fixture('gguf', 'small_v2.expected.json'));
    const ckpt = await openCheckpoint(fixture('gguf', 'small_v2.gguf'));
    assert.equal(ckpt.metadata['GGUF.version'], 2);
    for (const t of ckpt.tensors) await checkTensorValues(t, expected.tensors[t.name]);
  });

  it('shows dims row-major (reversed from ggml order)', async () => {
    const t = await single({ name: 'w', dims: [4, 3, 2], type: 0, data: new Uint8Array(96) });
    assert.deepEqual(t.shape, [2, 3, 4]);
    assert.equal(t.elements, 24);
  });

  it('decodes blocks whose values are known by construction', async () => {
    // Q8_0: d = 0.5, q = -16..15 → values -8 .. 7.5.
    const q8 = new Uint8Array(34);
    new DataView(q8.buffer).setUint16(0, f16Bits(0.5), true);
    for (let j = 0; j < 32; j++) q8[2 + j] = (j - 16) & 0xff;
    const v8 = await readTensor(await single({ name: 'q8', dims: [32], type: 8, data: q8 }));
    assert.deepEqual(Array.from(v8), Array.from({ length: 32 }, (_, j) => (j - 16) * 0.5));

    // Q4_0: d = 2, nibbles j & 15 in the low half and 15 - j in the high half.
    const q4 = new Uint8Array(18);
    new DataView(q4.buffer).setUint16(0, f16Bits(2), true);
    for (let j = 0; j < 16; j++) q4[2 + j] = j | ((15 - j) << 4);
    const v4 = await readTensor(await single({ name: 'q4', dims: [32], type: 2, data: q4 }));
    assert.deepEqual(Array.from(v4), [...Array.from({ length: 16 }, (_, j) => (j - 8) * 2), ...Array.from({ length: 16 }, (_, j) => (7 - j) * 2)]);

    // Q4_K: d = 1, dmin = 1, all 8 scales 1 and mins 2 (j < 4 direct, j >= 4 packed), nibbles 5 / 9 → 3 and 7.
    const k4 = new Uint8Array(144);
    const dv = new DataView(k4.buffer);
    dv.setUint16(0, f16Bits(1), true);
    dv.setUint16(2, f16Bits(1), true);
    for (let j = 0; j < 4; j++) {
      k4[4 + j] = 1; // scale j
      k4[8 + j] = 2; // min j
      k4[12 + j] = 1 | (2 << 4); // scale j+4 low bits | min j+4 low bits
    }
    k4.fill(5 | (9 << 4), 16);
    const vk = await readTensor(await single({ name: 'k4', dims: [256], type: 12, data: k4 }));
    for (let i = 0; i < 256; i++) assert.equal(vk[i], (i % 64) < 32 ? 3 : 7, `element ${i}`);

    // Q6_K: d = 1, scales all 1, ql = 0, qh = 0 → q = -32 everywhere.
    const k6 = new Uint8Array(210);
    k6.fill(1, 192, 208);
    new DataView(k6.buffer).setUint16(208, f16Bits(1), true);
    const v6 = await readTensor(await single({ name: 'k6', dims: [256], type: 14, data: k6 }));
    assert.ok(v6.every((v) => v === -32));
  });

  it('refuses version 1, big-endian files, lying counts and bad offsets', async () => {
    await rejects(writeGguf([], [], { version: 1 }), /GGUF version 1 is not supported/);
    await rejects(writeGguf([], [], { version: 0x03000000 }), /big-endian GGUF/);
    await rejects(writeGguf([], [], { version: 9 }), /unknown GGUF version 9/);
    await rejects(writeGguf([], [], { tensorCount: 1n << 40n }), /header declares 2\^40 tensors but the file has only 16 bytes left/);
    await rejects(writeGguf([], [], { kvCount: 0xffffffffffffffffn }), /header declares 18446744073709551615 metadata entries/);
    const f32 = new Uint8Array(16);
    await rejects(writeGguf([], [{ name: 'w', dims: [4], type: 0, data: f32, offset: 3 }]), /data offset 3, not a multiple of the alignment 32/);
    await rejects(writeGguf([], [{ name: 'w', dims: [1 << 20], type: 0, data: f32 }]), /needs 4\.0 MB at data offset 0 but the data section has only 32 bytes/);
    await rejects(writeGguf([], [{ name: 'w', dims: [4], type: 77, data: f32 }]), /ggml type id 77/);
    await rejects(writeGguf([], [{ name: 'w', dims: [16], type: 2, data: new Uint8Array(18) }]), /not a multiple of the Q4_0 block size 32/);
    await rejects(writeGguf([], [{ name: 'w', dims: [1, 1, 1, 1, 1], type: 0, data: f32 }]), /5 dimensions/);
    await rejects(writeGguf([{ key: 'general.alignment', type: GGUF_TYPE.U32, value: 24 }], []), /not a power of two/);
    await rejects(writeGguf([{ key: 'a', type: GGUF_TYPE.ARRAY, value: { type: GGUF_TYPE.U32, items: [] } }], []).subarray(0, 40), /needs|file has only/);
    const lyingArray = writeGguf([{ key: 'a', type: GGUF_TYPE.ARRAY, value: { type: GGUF_TYPE.STRING, items: ['x'] } }], []);
    lyingArray.writeBigUInt64LE(1n << 50n, 24 + 9 + 4 + 4);
    await rejects(lyingArray, /header declares 2\^50 elements in array a but the file has/);
    await rejects(writeGguf([{ key: 'a', type: 13, value: 0 }].map((kv) => ({ ...kv, type: GGUF_TYPE.U8 })), []).subarray(0, 30), /needs|file has only|too short/);
  });
});
