/**
 * The tensors AutoGPTQ's "gptq" checkpoint format stores per linear layer, which Transformers,
 * vLLM and TGI load:
 *
 * - `qweight` int32 [in/pack, out]: pack = 32/bits codes per word along the input axis, input
 *   channel i in word i/pack at bit offset bits·(i mod pack) (lowest bits first);
 * - `qzeros` int32 [groups, out/pack]: zero points packed the same way along the output axis;
 * - `scales` float16 [groups, out];
 * - `g_idx` int32 [in]: the group of each input channel.
 *
 * W[o, i] = scale[g, o] · (q[i, o] − z[g, o]) with g = g_idx[i]. Codes and zero points are
 * unsigned. We write the original ("v1") convention that AutoGPTQ established and Transformers'
 * loaders assume: the stored zero is z − 1, and readers add 1 back. GPTQModel's "gptq_v2" stores
 * z itself. In v1 a zero point of 0 cannot be stored (it would read back as 2^bits).
 */
import { floatToHalf } from '../tensor/floatToHalf';
import { f16Lookup } from '../tensor/floatTables';
import type { QuantizedWeight } from './QuantScheme';
import { toUnsigned } from './toUnsigned';

/** Code widths the GPTQ layout packs into whole int32 words. */
export type GptqBits = 4 | 8;

/** One layer in GPTQ's terms before packing: unsigned codes, zero points, scales and g_idx. */
export interface GptqLinear {
  readonly bits: GptqBits;
  /** Input channels (columns of W [out, in]). */
  readonly inFeatures: number;
  /** Output channels (rows of W). */
  readonly outFeatures: number;
  /** Unsigned codes, row-major [out, in] (our canonical orientation). */
  readonly codes: Uint8Array;
  /** Unsigned zero points [groups, out] (wider than the codes: v1 reads a stored all-ones field as 2^bits). */
  readonly zeros: Uint16Array;
  /** Scales [groups, out]; written as float16. */
  readonly scales: Float32Array;
  /** Group of each input channel [in], each in [0, groups). */
  readonly gIdx: Int32Array;
}

/** One layer as stored: the four tensors of the GPTQ layout. */
export interface GptqPacked {
  readonly bits: GptqBits;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly groups: number;
  /** int32 [in/pack, out]. */
  readonly qweight: Int32Array;
  /** int32 [groups, out/pack], zero − 1 per value (v1). */
  readonly qzeros: Int32Array;
  /** float16 bit patterns [groups, out]. */
  readonly scales: Uint16Array;
  /** int32 [in]. */
  readonly gIdx: Int32Array;
}

/** Codes per int32 word. */
export function gptqPack(bits: GptqBits): number {
  return 32 / bits;
}

function checkBits(bits: number): asserts bits is GptqBits {
  if (bits !== 4 && bits !== 8) throw new RangeError(`the GPTQ layout is written for 4 or 8 bits, not ${bits}`);
}

/**
 * Our quantized weight W [out, in] (RTN or GPTQ, per group or per channel) as a GPTQ layer: signed
 * symmetric codes are shifted to unsigned with zero point 2^(b−1) (the same values), scales and
 * zero points are transposed to [groups, out], and g_idx[i] = ⌊i / groupSize⌋ because our groups
 * are contiguous runs of the input axis, also under act-order (static groups).
 *
 * @throws {RangeError} for per-tensor weights or bit widths other than 4 and 8.
 */
export function gptqFromQuantized(q: QuantizedWeight): GptqLinear {
  const { rows, cols, granularity, groupSize, groupsPerRow, bits } = q.layout;
  checkBits(bits);
  if (granularity === 'tensor') throw new RangeError('the GPTQ layout needs per-group or per-channel scales, not one per tensor');
  const u = toUnsigned(q);
  const groups = groupsPerRow;
  const zeros = new Uint16Array(groups * rows);
  const scales = new Float32Array(groups * rows);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      zeros[g * rows + r] = u.zeroPoints[r * groups + g];
      scales[g * rows + r] = u.scales[r * groups + g];
    }
  }
  const gIdx = new Int32Array(cols);
  for (let i = 0; i < cols; i++) gIdx[i] = Math.floor(i / groupSize);
  return { bits, inFeatures: cols, outFeatures: rows, codes: u.codes as Uint8Array, zeros, scales, gIdx };
}

/**
 * Packs a layer into the GPTQ tensors (v1 zeros). `in` and `out` must be multiples of 32/bits,
 * since the words cover whole runs.
 *
 * @throws {RangeError} for shapes that do not pack, codes or zeros out of range, a g_idx out of
 *   range, or a zero point of 0, which v1 cannot store.
 */
export function packGptq(layer: GptqLinear): GptqPacked {
  const { bits, inFeatures: nIn, outFeatures: nOut, codes, zeros, scales, gIdx } = layer;
  checkBits(bits);
  const pack = gptqPack(bits);
  const maxq = 2 ** bits - 1;
  if (nIn % pack !== 0 || nOut % pack !== 0) throw new RangeError(`a ${nOut}×${nIn} weight cannot be packed: both dimensions must be multiples of ${pack} at ${bits} bits`);
  const groups = scales.length / nOut;
  if (!Number.isInteger(groups) || groups < 1 || zeros.length !== scales.length) throw new RangeError(`scales and zeros must be [groups, ${nOut}], got ${scales.length} and ${zeros.length} values`);
  if (codes.length !== nIn * nOut) throw new RangeError(`codes have ${codes.length} values, expected ${nOut}×${nIn}`);
  if (gIdx.length !== nIn) throw new RangeError(`g_idx has ${gIdx.length} entries, expected ${nIn}`);
  for (let i = 0; i < nIn; i++) if (!(gIdx[i] >= 0 && gIdx[i] < groups)) throw new RangeError(`g_idx[${i}] = ${gIdx[i]} is outside [0, ${groups})`);

  const qweight = new Int32Array((nIn / pack) * nOut);
  // Word row by word row, so that writes are sequential and each output row's run of `pack`
  // codes is read at once (the rows a word row touches stay in cache for the next one).
  for (let w = 0, i0 = 0; i0 < nIn; w++, i0 += pack) {
    const base = w * nOut;
    for (let o = 0; o < nOut; o++) {
      const at = o * nIn + i0;
      let word = 0;
      for (let k = 0; k < pack; k++) {
        const c = codes[at + k];
        if (c > maxq) throw new RangeError(`code ${c} at [${o}, ${i0 + k}] does not fit in ${bits} bits`);
        word |= c << (bits * k);
      }
      qweight[base + o] = word;
    }
  }
  const perRow = nOut / pack;
  const qzeros = new Int32Array(groups * perRow);
  const half = new Uint16Array(groups * nOut);
  for (let g = 0; g < groups; g++) {
    for (let o = 0; o < nOut; o++) {
      const z = zeros[g * nOut + o];
      if (z === 0 || z > maxq) {
        throw new RangeError(`zero point ${z} of group ${g}, output ${o} cannot be stored in the GPTQ v1 layout, which keeps zero − 1 in ${bits} bits (zero points 1..${maxq})`);
      }
      qzeros[g * perRow + ((o / pack) | 0)] |= (z - 1) << (bits * (o % pack));
      half[g * nOut + o] = floatToHalf(scales[g * nOut + o]);
    }
  }
  return { bits, inFeatures: nIn, outFeatures: nOut, groups, qweight, qzeros, scales: half, gIdx: Int32Array.from(gIdx) };
}

/** The float32 weight W [out, in] a GPTQ layer stands for: f32(f16 scale · (q − z)). */
export function dequantizeGptq(p: GptqPacked): Float32Array {
  const { bits, inFeatures: nIn, outFeatures: nOut, qweight, qzeros, scales, gIdx } = p;
  const pack = gptqPack(bits);
  const mask = 2 ** bits - 1;
  const perRow = nOut / pack;
  const f16 = f16Lookup();
  const out = new Float32Array(nIn * nOut);
  for (let i = 0; i < nIn; i++) {
    const g = gIdx[i];
    const word = ((i / pack) | 0) * nOut;
    const shift = bits * (i % pack);
    for (let o = 0; o < nOut; o++) {
      const q = (qweight[word + o] >>> shift) & mask;
      const z = ((qzeros[g * perRow + ((o / pack) | 0)] >>> (bits * (o % pack))) & mask) + 1;
      out[o * nIn + i] = Math.fround(f16[scales[g * nOut + o]] * (q - z));
    }
  }
  return out;
}

/**
 * Reads a layer back from its stored tensors: checks their shapes against each other, infers
 * bits from qweight's rows, and returns the packed form {@link dequantizeGptq} takes.
 *
 * @throws {RangeError} naming the tensor whose shape or values do not fit.
 */
export function gptqFromTensors(name: string, shapes: { readonly qweight: readonly number[]; readonly qzeros: readonly number[]; readonly scales: readonly number[]; readonly gIdx?: readonly number[] }, data: { readonly qweight: Int32Array; readonly qzeros: Int32Array; readonly scales: Uint16Array; readonly gIdx?: Int32Array }, inFeatures: number): GptqPacked {
  const [words, nOut] = shapes.qweight;
  if (shapes.qweight.length !== 2 || words === 0 || inFeatures % words !== 0) throw new RangeError(`${name}.qweight has shape [${shapes.qweight.join(', ')}], which does not pack ${inFeatures} input channels`);
  const bits = 32 / (inFeatures / words);
  checkBits(bits);
  const pack = gptqPack(bits);
  const groups = shapes.scales[0];
  if (shapes.scales.length !== 2 || shapes.scales[1] !== nOut || groups < 1) throw new RangeError(`${name}.scales has shape [${shapes.scales.join(', ')}], expected [groups, ${nOut}]`);
  if (shapes.qzeros.length !== 2 || shapes.qzeros[0] !== groups || shapes.qzeros[1] * pack !== nOut) throw new RangeError(`${name}.qzeros has shape [${shapes.qzeros.join(', ')}], expected [${groups}, ${nOut / pack}]`);
  let gIdx = data.gIdx;
  if (gIdx === undefined) {
    // Without g_idx the groups are contiguous runs of in/groups channels.
    const size = Math.ceil(inFeatures / groups);
    gIdx = Int32Array.from({ length: inFeatures }, (_, i) => Math.floor(i / size));
  } else if (gIdx.length !== inFeatures) {
    throw new RangeError(`${name}.g_idx has ${gIdx.length} entries, expected ${inFeatures}`);
  }
  for (let i = 0; i < inFeatures; i++) if (!(gIdx[i] >= 0 && gIdx[i] < groups)) throw new RangeError(`${name}.g_idx[${i}] = ${gIdx[i]} is outside [0, ${groups})`);
  return { bits, inFeatures, outFeatures: nOut, groups, qweight: data.qweight, qzeros: data.qzeros, scales: data.scales, gIdx };
}

/** The inverse of {@link packGptq}: unsigned codes [out, in], zero points (z, not z − 1) and float scales [groups, out]. */
export function unpackGptq(p: GptqPacked): GptqLinear {
  const { bits, inFeatures: nIn, outFeatures: nOut, groups, qweight, qzeros, scales, gIdx } = p;
  const pack = gptqPack(bits);
  const mask = 2 ** bits - 1;
  const codes = new Uint8Array(nIn * nOut);
  for (let i = 0; i < nIn; i++) {
    const word = ((i / pack) | 0) * nOut;
    const shift = bits * (i % pack);
    for (let o = 0; o < nOut; o++) codes[o * nIn + i] = (qweight[word + o] >>> shift) & mask;
  }
  const perRow = nOut / pack;
  const zeros = new Uint16Array(groups * nOut);
  const f16 = f16Lookup();
  const values = new Float32Array(groups * nOut);
  for (let g = 0; g < groups; g++) {
    for (let o = 0; o < nOut; o++) {
      // v1 keeps z − 1; a stored all-ones field reads back as 2^bits, which no code reaches.
      zeros[g * nOut + o] = ((qzeros[g * perRow + ((o / pack) | 0)] >>> (bits * (o % pack))) & mask) + 1;
      values[g * nOut + o] = f16[scales[g * nOut + o]];
    }
  }
  return { bits, inFeatures: nIn, outFeatures: nOut, codes, zeros, scales: values, gIdx: Int32Array.from(gIdx) };
}
