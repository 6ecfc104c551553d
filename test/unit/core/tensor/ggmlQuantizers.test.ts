import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ggmlBlockType, ggmlTypeById } from '../../../../src/core/tensor/ggmlBlocks';
import { encodeGgml, usesImportance, writableGgmlType, WRITABLE_GGML_TYPES } from '../../../../src/core/tensor/ggmlQuantizers';
import { f32ToBf16Bits, f32ToF16Bits } from '../../../../src/core/tensor/ggmlRounding';
import { fixture } from '../../support/paths';

interface Manifest {
  readonly rows: number;
  readonly cols: number;
  readonly types: readonly string[];
  readonly importanceTypes: readonly string[];
}

const manifest = JSON.parse(readFileSync(fixture('gguf-quant', 'manifest.json'), 'utf8')) as Manifest;
const raw = readFileSync(fixture('gguf-quant', 'input.f32'));
const input = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));

const impRaw = readFileSync(fixture('gguf-quant', 'importance.f32'));
const importance = new Float32Array(impRaw.buffer.slice(impRaw.byteOffset, impRaw.byteOffset + impRaw.byteLength));

function row(r: number): Float32Array {
  return input.subarray(r * manifest.cols, (r + 1) * manifest.cols);
}

/** Worst error a round-to-nearest block type may leave, relative to the row's absmax. */
const TOLERANCE: Readonly<Record<string, number>> = {
  Q8_0: 1 / 127, Q5_0: 1 / 15, Q5_1: 1 / 30, Q4_0: 1 / 7, Q4_1: 1 / 14,
  Q6_K: 1 / 30, Q5_K: 1 / 15, Q4_K: 1 / 7, Q3_K: 1 / 3, Q2_K: 1 / 1.5,
};

describe('ggml reference quantizers', () => {
  for (const name of manifest.types) {
    it(`${name} matches the reference bytes of quantize_row_${name.toLowerCase()}_ref`, () => {
      const type = writableGgmlType(name);
      assert.ok(type, `${name} is writable`);
      const expected = readFileSync(fixture('gguf-quant', `${name}.bin`));
      const rowBytes = (manifest.cols / type.blockSize) * type.typeSize;
      for (let r = 0; r < manifest.rows; r++) {
        const got = encodeGgml(type, row(r));
        const want = expected.subarray(r * rowBytes, (r + 1) * rowBytes);
        const at = got.findIndex((b, i) => b !== want[i]);
        assert.equal(at, -1, `${name} row ${r}: first differing byte ${at} (block ${Math.floor(at / type.typeSize)})`);
      }
    });

    it(`${name} round-trips through our decoder within the type's error`, () => {
      const type = writableGgmlType(name);
      assert.ok(type?.dequantize);
      for (let r = 0; r < manifest.rows; r++) {
        const x = row(r);
        const y = new Float32Array(x.length);
        type.dequantize(encodeGgml(type, x), x.length / type.blockSize, y);
        let amax = 0;
        let err = 0;
        for (let i = 0; i < x.length; i++) {
          amax = Math.max(amax, Math.abs(x[i]));
          err = Math.max(err, Math.abs(x[i] - y[i]));
        }
        // Scales are stored as halves: rows far below half precision's range lose everything.
        if (amax < 1e-4) continue;
        assert.ok(err <= TOLERANCE[name] * amax + 1e-7, `${name} row ${r}: max error ${err} for absmax ${amax}`);
      }
    });
  }

  for (const name of manifest.importanceTypes) {
    it(`${name} with an importance vector matches the reference bytes of quantize_row_${name.toLowerCase()}_impl`, () => {
      const type = writableGgmlType(name);
      assert.ok(type && usesImportance(type));
      const expected = readFileSync(fixture('gguf-quant', `${name}.imatrix.bin`));
      const rowBytes = (manifest.cols / type.blockSize) * type.typeSize;
      for (let r = 0; r < manifest.rows; r++) {
        const got = encodeGgml(type, row(r), importance);
        const want = expected.subarray(r * rowBytes, (r + 1) * rowBytes);
        const at = got.findIndex((b, i) => b !== want[i]);
        assert.equal(at, -1, `${name} row ${r}: first differing byte ${at} (block ${Math.floor(at / type.typeSize)})`);
      }
      // Several rows at once are quantized row by row with the same importance.
      const two = encodeGgml(type, input.subarray(0, 2 * manifest.cols), importance);
      assert.deepEqual(two, new Uint8Array(expected.subarray(0, 2 * rowBytes)));
      assert.throws(() => encodeGgml(type, input.subarray(0, manifest.cols), importance.subarray(0, 256 + 32)), /blocks of|whole rows/);
    });
  }

  it('Q8_0, which llama.cpp quantizes without its imatrix, and Q2_K ignore the importance', () => {
    for (const name of ['Q8_0', 'Q2_K']) {
      const type = writableGgmlType(name)!;
      assert.equal(usesImportance(type), false, name);
      assert.deepEqual(encodeGgml(type, row(0), importance), encodeGgml(type, row(0)), name);
    }
  });

  it('plain types encode losslessly where the format allows', () => {
    const x = new Float32Array([1, -2.5, 65504, 1e-8, 0.1]);
    assert.deepEqual(new Float32Array(encodeGgml(writableGgmlType('f32')!, x).buffer), x);
    assert.equal(f32ToF16Bits(1), 0x3c00);
    assert.equal(f32ToF16Bits(65520), 0x7c00); // rounds up to infinity
    assert.equal(f32ToF16Bits(2 ** -24), 0x0001);
    assert.equal(f32ToF16Bits(Math.fround(1 + 2 ** -11)), 0x3c00); // tie to even
    assert.equal(f32ToBf16Bits(1), 0x3f80);
    assert.equal(f32ToBf16Bits(Math.fround(1 + 2 ** -8)), 0x3f80); // tie to even
    assert.equal(f32ToBf16Bits(NaN) & 0x7fc0, 0x7fc0);
  });

  it('lists every writable type once and refuses the others', () => {
    assert.equal(new Set(WRITABLE_GGML_TYPES).size, WRITABLE_GGML_TYPES.length);
    assert.equal(writableGgmlType('iq2_xxs'), undefined);
    assert.throws(() => encodeGgml(ggmlBlockType('GGML_IQ2_XXS')!, new Float32Array(256)), /not supported/);
    assert.throws(() => encodeGgml(ggmlTypeById(12)!, new Float32Array(100)), /not whole Q4_K blocks/);
  });
});
