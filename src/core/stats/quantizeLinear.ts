/**
 * Scalar helpers for ONNX `QuantizeLinear` / `DequantizeLinear`: round-half-to-even, the integer
 * ranges, and the symmetric / asymmetric scale rules. The statistics kernels inline the same
 * arithmetic in their hot loops; these functions are the reference they must agree with.
 *
 * All arithmetic is float64. ONNX stores scales as float32 in a model file; the error estimates
 * here use the float64 scale, which changes SQNR by far less than anything a user can see.
 */

/** 1.5 · 2^52: adding and subtracting it rounds a double to an integer, half to even (IEEE default). */
const RNE_MAGIC = 6755399441055744;

/**
 * Rounds to the nearest integer, ties to even, as ONNX `QuantizeLinear` (and `np.round`) do.
 * `Math.round` rounds ties towards +∞, which disagrees on every x.5 with an even floor. A zero
 * result is always +0 (numpy keeps −0); the sign of a zero never changes a quantized value.
 */
export function roundHalfToEven(x: number): number {
  // Beyond 2^51 every double is already an integer (or the magic trick would lose it).
  if (!(Math.abs(x) < 2251799813685248)) return x;
  return x + RNE_MAGIC - RNE_MAGIC;
}

/** An integer target type of `QuantizeLinear`. */
export interface IntRange {
  readonly qmin: number;
  readonly qmax: number;
}

/** Signed range for symmetric quantization: [-128, 127] for 8 bits, [-8, 7] for 4 bits. */
export function signedRange(bits: number): IntRange {
  return { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 };
}

/** Unsigned range for asymmetric quantization: [0, 255] for 8 bits, [0, 15] for 4 bits (uint4, as MatMulNBits). */
export function unsignedRange(bits: number): IntRange {
  return { qmin: 0, qmax: 2 ** bits - 1 };
}

/** Scale, zero point and integer range of one quantization group. */
export interface QuantParams extends IntRange {
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * Symmetric parameters: scale = absmax / qmax, zero point 0, over the signed range. An all-zero
 * group gets scale 0, which {@link fakeQuantize} maps to 0 (ONNX would divide by zero).
 */
export function symmetricParams(absmax: number, bits: number): QuantParams {
  const r = signedRange(bits);
  return { ...r, scale: absmax / r.qmax, zeroPoint: 0 };
}

/**
 * Asymmetric parameters as ONNX `DynamicQuantizeLinear` defines them, generalised to `bits`:
 * the range is widened to contain 0, scale = (max − min) / (qmax − qmin), and
 * zero_point = saturate(round_half_even(qmin − min / scale)).
 */
export function asymmetricParams(min: number, max: number, bits: number): QuantParams {
  const r = unsignedRange(bits);
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = (hi - lo) / (r.qmax - r.qmin);
  const zeroPoint = scale > 0 ? Math.min(Math.max(roundHalfToEven(r.qmin - lo / scale), r.qmin), r.qmax) : 0;
  return { ...r, scale, zeroPoint };
}

/** q = saturate(round_half_even(x / scale) + zero_point), the `QuantizeLinear` formula. */
export function quantizeValue(x: number, p: QuantParams): number {
  if (!(p.scale > 0)) return p.zeroPoint;
  return Math.min(Math.max(roundHalfToEven(x / p.scale) + p.zeroPoint, p.qmin), p.qmax);
}

/** (q − zero_point) · scale, the `DequantizeLinear` formula. */
export function dequantizeValue(q: number, p: QuantParams): number {
  return (q - p.zeroPoint) * p.scale;
}

/** The value a model would compute with after a quantize / dequantize round trip. */
export function fakeQuantize(x: number, p: QuantParams): number {
  return dequantizeValue(quantizeValue(x, p), p);
}
