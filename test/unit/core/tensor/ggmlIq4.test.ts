import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TensorInfo } from '../../../../src/core/formats/Checkpoint';
import { readTensor } from '../../../../src/core/tensor/TensorReader';

/** ggml's kvalues_iq4nl as published in ggml-common.h, written out here independently of the decoder. */
const KVALUES = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

function inline(dtype: `GGML_${string}`, elements: number, bytes: Uint8Array): TensorInfo {
  return { name: 't', dtype, shape: [elements], elements, byteLength: bytes.length, littleEndian: true, source: { kind: 'inline', bytes } };
}

describe('IQ4 non-linear codebook types', () => {
  it('IQ4_NL: value j is d · kvalues[low nibble of byte j], value j+16 the high nibble', async () => {
    const b = new Uint8Array(36);
    // Block 0: d = 0.5 (half 0x3800); block 1: d = -2 (0xc000).
    b.set([0x00, 0x38], 0);
    b.set([0x00, 0xc0], 18);
    for (let j = 0; j < 16; j++) {
      b[2 + j] = j | ((15 - j) << 4);
      b[20 + j] = ((j * 7) & 15) | (j << 4);
    }
    const y = await readTensor(inline('GGML_IQ4_NL', 64, b));
    for (let j = 0; j < 16; j++) {
      assert.equal(y[j], 0.5 * KVALUES[j]);
      assert.equal(y[j + 16], 0.5 * KVALUES[15 - j]);
      assert.equal(y[32 + j], -2 * KVALUES[(j * 7) & 15]);
      assert.equal(y[48 + j], -2 * KVALUES[j]);
    }
  });

  it('IQ4_XS: 6-bit sub-scales (low 4 bits in scales_l, high 2 in scales_h) minus 32 times the half scale', async () => {
    const ls = [0, 17, 32, 33, 40, 50, 63, 31];
    const b = new Uint8Array(136);
    b.set([0x00, 0x34], 0); // d = 0.25
    let scalesH = 0;
    ls.forEach((s, ib) => {
      b[4 + (ib >> 1)] |= (s & 15) << (4 * (ib & 1));
      scalesH |= (s >> 4) << (2 * ib);
    });
    b[2] = scalesH & 255;
    b[3] = scalesH >> 8;
    for (let k = 0; k < 128; k++) b[8 + k] = (k * 5 + 3) & 255;
    const y = await readTensor(inline('GGML_IQ4_XS', 256, b));
    for (let ib = 0; ib < 8; ib++) {
      for (let j = 0; j < 16; j++) {
        const q = (16 * ib + j) * 5 + 3;
        assert.equal(y[32 * ib + j], 0.25 * (ls[ib] - 32) * KVALUES[q & 15], `sub-block ${ib} value ${j}`);
        assert.equal(y[32 * ib + j + 16], 0.25 * (ls[ib] - 32) * KVALUES[(q & 255) >> 4], `sub-block ${ib} value ${j + 16}`);
      }
    }
  });
});
