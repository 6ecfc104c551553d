/**
 * The rounding steps ggml's reference quantizers use, reproduced in float32 so that encoded blocks
 * come out bit-identical: nearest_int's add-a-magic-constant trick (round half to even), and the
 * float32 → half / bfloat16 conversions with round to nearest even.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** ggml's `nearest_int`: float32 `v` rounded to the nearest integer, ties to even (|v| < 2^22). */
export function nearestInt(v: number): number {
  return Math.fround(v + 12582912) - 12582912;
}

/** C's `roundf`: halves round away from zero. */
export function roundAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** The IEEE half bits nearest to float32 `v` (ties to even, overflow to infinity, NaN kept quiet). */
export function f32ToF16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const kept = m >>> shift;
    const rest = m - kept * 2 ** shift;
    const mid = 2 ** (shift - 1);
    return sign | (rest > mid || (rest === mid && kept & 1) ? kept + 1 : kept);
  }
  const rest = mant & 0x1fff;
  let bits = (e << 10) | (mant >>> 13);
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && bits & 1)) bits++;
  return sign | bits;
}

/** ggml's float32 → bfloat16: round to nearest even, NaN forced quiet. */
export function f32ToBf16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 64) & 0xffff;
  return ((x + (0x7fff + ((x >>> 16) & 1))) >>> 16) & 0xffff;
}
