import { scaleIndex, type QuantizedWeight } from '../../quant/QuantScheme';
import { toUnsigned } from '../../quant/toUnsigned';

/** The tensors of a `com.microsoft::MatMulNBits` weight. */
export interface PackedNBits {
  /** Input width K. */
  readonly K: number;
  /** Output width N. */
  readonly N: number;
  readonly blockSize: number;
  /** ceil(K / blockSize). */
  readonly kBlocks: number;
  /** blockSize · 4 / 8 bytes per block. */
  readonly blobSize: number;
  /** uint8 [N, kBlocks, blobSize]: a column's block, two codes per byte, low nibble first. */
  readonly B: Uint8Array;
  /** float32 [N · kBlocks]. */
  readonly scales: Float32Array;
  /** uint8 [N · ceil(kBlocks / 2)], low nibble first; undefined when every zero point is the default 8. */
  readonly zeroPoints: Uint8Array | undefined;
}

/** Block sizes the CPU kernel dequantizes: powers of two from 16 to 256. */
export const NBITS_BLOCK_SIZES: readonly number[] = [16, 32, 64, 128, 256];

/**
 * The block size a quantized weight is written with: its group size when grouped; for per-channel
 * or per-tensor weights one block covering all of K (the smallest allowed power of two ≥ K), padded.
 *
 * @throws {RangeError} when no block size of the kernel fits.
 */
export function nbitsBlockSize(q: QuantizedWeight): number {
  const { granularity, groupSize, cols } = q.layout;
  if (granularity === 'group') {
    if (!NBITS_BLOCK_SIZES.includes(groupSize)) throw new RangeError(`MatMulNBits needs a group size of ${NBITS_BLOCK_SIZES.join(', ')}; got ${groupSize}`);
    return groupSize;
  }
  const fit = NBITS_BLOCK_SIZES.find((b) => b >= cols);
  if (fit === undefined) throw new RangeError(`per-channel INT4 of a layer with ${cols} inputs does not fit one MatMulNBits block (at most ${NBITS_BLOCK_SIZES[NBITS_BLOCK_SIZES.length - 1]}); choose a group size`);
  return fit;
}

/**
 * Packs a 4-bit weight (canonical W [out = N, in = K], as RTN and GPTQ produce it) exactly as the
 * contrib operator's schema lays out B, scales and zero points. Symmetric codes are shifted to
 * unsigned with zero point 8, which dequantizes to the same values. The tail of the last block
 * (when K is not a multiple of the block size) holds the block's zero-point code, so it is 0.
 */
export function packMatMulNBits(weight: QuantizedWeight, blockSize = nbitsBlockSize(weight)): PackedNBits {
  if (weight.layout.bits !== 4) throw new RangeError(`MatMulNBits is written with 4-bit codes; got ${weight.layout.bits} bits`);
  if (!NBITS_BLOCK_SIZES.includes(blockSize)) throw new RangeError(`invalid MatMulNBits block size ${blockSize}`);
  const q = toUnsigned(weight);
  const { rows: N, cols: K, granularity, groupSize } = q.layout;
  if (granularity === 'group' && groupSize !== blockSize) throw new RangeError(`group size ${groupSize} differs from block size ${blockSize}`);
  const codes = q.codes;
  const kBlocks = Math.ceil(K / blockSize);
  const blobSize = blockSize / 2;
  const B = new Uint8Array(N * kBlocks * blobSize);
  const scales = new Float32Array(N * kBlocks);
  const zpBytes = Math.ceil(kBlocks / 2);
  const zeroPoints = new Uint8Array(N * zpBytes);
  let allDefault = true;
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < kBlocks; b++) {
      const k0 = b * blockSize;
      const s = scaleIndex(q.layout, n, Math.min(k0, K - 1));
      const zp = q.zeroPoints[s];
      scales[n * kBlocks + b] = q.scales[s];
      if (zp !== 8) allDefault = false;
      zeroPoints[n * zpBytes + (b >> 1)] |= (b & 1) === 0 ? zp : zp << 4;
      const base = (n * kBlocks + b) * blobSize;
      const from = n * K + k0;
      // Full blocks take two codes per byte without bounds checks; only the last block of a row can be short.
      const full = Math.min(blockSize, K - k0) >> 1;
      for (let j = 0; j < full; j++) B[base + j] = codes[from + 2 * j] | (codes[from + 2 * j + 1] << 4);
      for (let i = 2 * full; i < blockSize; i++) {
        const k = k0 + i;
        // Per-tensor and per-channel weights share one scale per row, so the padding uses that zero point.
        const code = k < K ? codes[n * K + k] : zp;
        B[base + (i >> 1)] |= (i & 1) === 0 ? code : code << 4;
      }
    }
  }
  return { K, N, blockSize, kBlocks, blobSize, B, scales, zeroPoints: allDefault ? undefined : zeroPoints };
}
