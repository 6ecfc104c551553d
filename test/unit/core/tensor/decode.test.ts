import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFormatError } from '../../../../src/core/FormatError';
import type { TensorInfo } from '../../../../src/core/formats/Checkpoint';
import type { DType } from '../../../../src/core/tensor/DType';
import { decodeElements } from '../../../../src/core/tensor/decodeElements';
import { e4m3Lookup, e5m2Lookup, f16Lookup } from '../../../../src/core/tensor/floatTables';
import { ggmlTypeById, GGML_TYPES } from '../../../../src/core/tensor/ggmlBlocks';
import { readTensor, readTensorChunks } from '../../../../src/core/tensor/TensorReader';

function inline(dtype: DType, shape: number[], bytes: Uint8Array, extra: Partial<TensorInfo> = {}): TensorInfo {
  const elements = shape.reduce((a, b) => a * b, 1);
  return { name: 't', dtype, shape, elements, byteLength: bytes.byteLength, littleEndian: true, source: { kind: 'inline', bytes }, ...extra };
}

describe('small float tables', () => {
  it('f16 matches known bit patterns', () => {
    const t = f16Lookup();
    assert.equal(t[0x3c00], 1);
    assert.equal(t[0xc000], -2);
    assert.equal(t[0x7bff], 65504);
    assert.equal(t[0x0001], 2 ** -24);
    assert.equal(t[0x0400], 2 ** -14);
    assert.equal(t[0x7c00], Infinity);
    assert.equal(t[0xfc00], -Infinity);
    assert.ok(Number.isNaN(t[0x7e00]));
    assert.ok(Object.is(t[0x8000], -0));
  });

  it('fp8 E4M3 (fn) and E5M2 match the OCP definitions', () => {
    const a = e4m3Lookup();
    assert.equal(a[0x38], 1);
    assert.equal(a[0x7e], 448);
    assert.equal(a[0x01], 2 ** -9);
    assert.ok(Number.isNaN(a[0x7f]) && Number.isNaN(a[0xff]));
    assert.equal(a[0xb8], -1);
    const b = e5m2Lookup();
    assert.equal(b[0x3c], 1);
    assert.equal(b[0x7b], 57344);
    assert.equal(b[0x7c], Infinity);
    assert.equal(b[0x01], 2 ** -16);
  });
});

describe('decodeElements', () => {
  it('decodes both byte orders and unaligned input', () => {
    const buf = Buffer.alloc(1 + 16);
    buf.writeFloatBE(1.5, 1);
    buf.writeFloatBE(-3.25, 5);
    buf.writeFloatBE(1e-3, 9);
    buf.writeFloatBE(7, 13);
    const out = new Float64Array(4);
    decodeElements('F32', false, buf.subarray(1), 4, out);
    assert.deepEqual(Array.from(out), [1.5, -3.25, Math.fround(1e-3), 7]);
    const le = Buffer.alloc(1 + 8);
    le.writeBigInt64LE(-(2n ** 62n), 1);
    decodeElements('I64', true, le.subarray(1), 1, out);
    assert.equal(out[0], -(2 ** 62));
    const be = Buffer.alloc(8);
    be.writeBigUInt64BE(2n ** 64n - 1n);
    decodeElements('U64', false, be, 1, out);
    assert.equal(out[0], 2 ** 64);
    const u16 = Buffer.alloc(4);
    u16.writeUInt16BE(0x3c00, 0);
    u16.writeUInt16BE(0xc000, 2);
    decodeElements('F16', false, u16, 2, out);
    assert.deepEqual(Array.from(out.subarray(0, 2)), [1, -2]);
  });

  it('decodes bf16 by shifting, into float32 and float64', () => {
    const b = new Uint8Array(new Uint16Array([0x3f80, 0xc040, 0x7f80]).buffer);
    const f32 = new Float32Array(3);
    decodeElements('BF16', true, b, 3, f32);
    assert.deepEqual(Array.from(f32), [1, -3, Infinity]);
    const f64 = new Float64Array(3);
    decodeElements('BF16', true, b, 3, f64);
    assert.deepEqual(Array.from(f64), [1, -3, Infinity]);
    const be = Buffer.from([0, 0x3f, 0x80, 0xc0, 0x40]).subarray(1);
    decodeElements('BF16', false, be, 2, f64);
    assert.deepEqual(Array.from(f64.subarray(0, 2)), [1, -3]);
  });

  it('maps any nonzero BOOL byte to 1', () => {
    const out = new Float32Array(3);
    decodeElements('BOOL', true, new Uint8Array([0, 1, 7]), 3, out);
    assert.deepEqual(Array.from(out), [0, 1, 1]);
  });
});

describe('readTensorChunks', () => {
  it('reuses one buffer and covers every element across chunk boundaries', async () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => i - 500);
    const t = inline('F32', [10, 100], new Uint8Array(values.buffer));
    const seen: number[] = [];
    let buffer: ArrayBufferLike | undefined;
    for await (const c of readTensorChunks(t, { chunkElements: 64 })) {
      assert.ok(c.length <= 64);
      buffer ??= c.buffer;
      assert.equal(c.buffer, buffer, 'chunks share one buffer');
      seen.push(...c);
    }
    assert.deepEqual(seen, Array.from(values));
  });

  it('gathers strided views and Fortran order into row-major when asked', async () => {
    // Storage 0..11 as a 3x4 row-major matrix; the view is its transpose (4x3, strides [1, 4]).
    const storage = new Uint8Array(Int32Array.from({ length: 12 }, (_, i) => i).buffer);
    const transposed = inline('I32', [4, 3], storage, { strides: [1, 4] });
    assert.deepEqual(Array.from(await readTensor(transposed)), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    // Without rowMajor a dense permutation streams in storage order.
    const stored: number[] = [];
    for await (const c of readTensorChunks(transposed)) stored.push(...c);
    assert.deepEqual(stored, Array.from({ length: 12 }, (_, i) => i));
    // A non-dense view (every other column) is always gathered.
    const sparse = inline('I32', [3, 2], storage, { strides: [4, 2] });
    const got: number[] = [];
    for await (const c of readTensorChunks(sparse)) got.push(...c);
    assert.deepEqual(got, [0, 2, 4, 6, 8, 10]);
    const fortran = inline('I32', [3, 4], storage, { fortranOrder: true });
    assert.deepEqual(Array.from(await readTensor(fortran)), [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
  });

  it('refuses missing bytes, undecodable types and big reads with FormatError', async () => {
    const short = inline('F32', [4], new Uint8Array(8));
    await assert.rejects(readTensor(short), (e: unknown) => isFormatError(e) && /needs 16 bytes but only 8/.test((e as Error).message));
    await assert.rejects(readTensor(inline('C64', [1], new Uint8Array(8))), /cannot be read as numbers/);
    await assert.rejects(readTensor(inline('GGML_IQ2_XXS', [256], new Uint8Array(66))), /statistics not supported for GGML type IQ2_XXS/);
    await assert.rejects(readTensor(inline('F32', [4], new Uint8Array(16)), { maxElements: 2 }), /more than the 2 read at once; read it in chunks/);
    await assert.rejects(readTensor({ ...inline('F32', [1], new Uint8Array(4)), source: { kind: 'none', reason: 'offloaded' } }), /no readable data: offloaded/);
    await assert.rejects(readTensor(inline('F32', [2, 2], new Uint8Array(16), { elements: 5 })), /declares 5 elements/);
  });
});

describe('ggml type table', () => {
  it('has the block sizes ggml defines', () => {
    const sizes = Object.fromEntries(GGML_TYPES.map((t) => [t.name, [t.blockSize, t.typeSize]]));
    assert.deepEqual(sizes.Q4_0, [32, 18]);
    assert.deepEqual(sizes.Q2_K, [256, 84]);
    assert.deepEqual(sizes.Q3_K, [256, 110]);
    assert.deepEqual(sizes.Q4_K, [256, 144]);
    assert.deepEqual(sizes.Q5_K, [256, 176]);
    assert.deepEqual(sizes.Q6_K, [256, 210]);
    assert.deepEqual(sizes.Q8_K, [256, 292]);
    assert.deepEqual(sizes.IQ2_XXS, [256, 66]);
    assert.equal(ggmlTypeById(30)?.dtype, 'BF16');
    assert.equal(ggmlTypeById(4), undefined);
  });
});
