/**
 * Decoders for ggml's non-linear 4-bit types IQ4_NL (32 values: half scale + 16 bytes of 4-bit
 * indices) and IQ4_XS (256 values: half scale, 6-bit sub-scales per 32, the same indices). Each
 * index picks a level from ggml's published codebook `kvalues_iq4nl`, as in
 * dequantize_row_iq4_nl / dequantize_row_iq4_xs.
 */
import { f16Lookup } from './floatTables';

/** ggml's kvalues_iq4nl: the 16 non-uniform levels, denser near zero. */
export const IQ4_LEVELS: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

/** IQ4_NL: 18 bytes per 32 values. */
export function dequantIq4Nl(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 18, p += 32) {
    const d = t[b[o] | (b[o + 1] << 8)];
    for (let j = 0; j < 16; j++) {
      const q = b[o + 2 + j];
      y[p + j] = Math.fround(d * IQ4_LEVELS[q & 15]);
      y[p + j + 16] = Math.fround(d * IQ4_LEVELS[q >> 4]);
    }
  }
}

/** IQ4_XS: 136 bytes per 256 values (d, scales_h u16, scales_l[4], qs[128]). */
export function dequantIq4Xs(b: Uint8Array, blocks: number, y: Float32Array): void {
  const t = f16Lookup();
  for (let i = 0, o = 0, p = 0; i < blocks; i++, o += 136) {
    const d = t[b[o] | (b[o + 1] << 8)];
    const scalesH = b[o + 2] | (b[o + 3] << 8);
    for (let ib = 0; ib < 8; ib++, p += 32) {
      const ls = ((b[o + 4 + (ib >> 1)] >> (4 * (ib & 1))) & 15) | (((scalesH >> (2 * ib)) & 3) << 4);
      const dl = Math.fround(d * (ls - 32));
      const qs = o + 8 + 16 * ib;
      for (let j = 0; j < 16; j++) {
        y[p + j] = Math.fround(dl * IQ4_LEVELS[b[qs + j] & 15]);
        y[p + j + 16] = Math.fround(dl * IQ4_LEVELS[b[qs + j] >> 4]);
      }
    }
  }
}
