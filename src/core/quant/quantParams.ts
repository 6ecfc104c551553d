import { roundHalfEven, saturate } from './roundHalfEven';
import { codeRange, type QuantBits } from './QuantScheme';

/** A scale and zero point for one group of weights. */
export interface QuantParams {
  /** The scale, already rounded to float32 as it will be stored. */
  readonly scale: number;
  /** The zero point (0 for symmetric schemes). */
  readonly zeroPoint: number;
}

/**
 * Scale and zero point for values in [lo, hi].
 *
 * - symmetric: scale = f32(absmax / (2^(b−1)−1)), zero point 0;
 * - asymmetric: the range is first extended to include 0 (so that 0, and padding, is exact, as
 *   ONNX `DynamicQuantizeLinear` does), scale = f32((hi − lo)/(2^b − 1)) and
 *   zero point = saturate(round_half_even(f32(−lo / scale))).
 *
 * The scale is rounded to float32 before the zero point is derived, because ONNX stores float32
 * scales and all later arithmetic must use the stored value. An all-zero group gets scale 0 and
 * zero point 0; {@link quantizeValue} maps everything to the zero point then, never NaN.
 *
 * @throws {RangeError} when lo or hi is not finite.
 */
export function quantParams(lo: number, hi: number, bits: QuantBits, symmetric: boolean): QuantParams {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`cannot quantize non-finite values (range ${lo}..${hi})`);
  const { qmin, qmax } = codeRange(bits, symmetric);
  if (symmetric) {
    const absmax = Math.max(Math.abs(lo), Math.abs(hi));
    return { scale: Math.fround(absmax / qmax), zeroPoint: 0 };
  }
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  const scale = Math.fround((max - min) / (qmax - qmin));
  if (scale === 0) return { scale: 0, zeroPoint: 0 };
  return { scale, zeroPoint: saturate(roundHalfEven(Math.fround(-min / scale)), qmin, qmax) };
}

/**
 * One code, exactly as ONNX `QuantizeLinear` with a float32 scale computes it:
 * saturate(round_half_even(f32(x / scale)) + zeroPoint) into [qmin, qmax]. The division is done
 * in float64 on float32 operands and rounded once to float32, which equals the float32 division
 * ONNX Runtime performs.
 */
export function quantizeValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  if (scale === 0) return saturate(zeroPoint, qmin, qmax);
  const q = saturate(roundHalfEven(Math.fround(x / scale)) + zeroPoint, qmin, qmax);
  // NaN input has no code; ONNX leaves it implementation-defined, we map it to the zero point.
  return Number.isNaN(q) ? zeroPoint : q;
}

/** The float32 value ONNX `DequantizeLinear` yields for a code: f32((q − zeroPoint)·scale). */
export function dequantizeValue(q: number, scale: number, zeroPoint: number): number {
  return Math.fround((q - zeroPoint) * scale);
}

/**
 * {@link quantParams} for the run W[r, c0..c1) of a row-major weight with `cols` columns: the
 * parameters of one group (or, with c0 = 0 and c1 = cols, of one output channel).
 */
export function runParams(data: ArrayLike<number>, cols: number, r: number, c0: number, c1: number, bits: QuantBits, symmetric: boolean): QuantParams {
  let lo = Infinity, hi = -Infinity;
  const base = r * cols;
  for (let c = c0; c < c1; c++) {
    const v = data[base + c];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (c1 <= c0) lo = hi = 0;
  return quantParams(lo, hi, bits, symmetric);
}
