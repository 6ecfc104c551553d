import type { MatrixLike } from '../linalg/Matrix';
import { quantParams } from './quantParams';
import { layoutFor, scaleCount, type QuantizedWeight, type QuantScheme } from './QuantScheme';

/** Options of {@link quantizeRtn}. */
export interface RtnOptions {
  /**
   * Where to write the codes: rows·cols entries, an Int8Array for a symmetric scheme and a
   * Uint8Array otherwise (a reused buffer saves allocating one per layer). Default: a new array.
   */
  readonly codes?: Int8Array | Uint8Array;
}

/** A weight rounded by {@link quantizeRtnMeasured}, with the sums of its weight SQNR. */
export interface MeasuredRtn {
  readonly weight: QuantizedWeight;
  /** Σ w² over the weight, in float64. */
  readonly signal: number;
  /** Σ (w − dequantized w)² over the weight, in float64, with the float32 dequantized values. */
  readonly noise: number;
}

/**
 * Round-to-nearest quantization of W [rows = out, cols = in] (row-major) under `scheme`, with
 * ties and clamping exactly as ONNX `QuantizeLinear` (round half to even, saturate) and float32
 * scales, so that our dequantized weights equal what ONNX Runtime computes from the written
 * codes. Groups run along the input axis (see {@link QuantScheme}).
 *
 * @throws {RangeError} for an invalid scheme, a data length that does not match the shape, or
 *   non-finite weights.
 */
export function quantizeRtn(W: MatrixLike, scheme: QuantScheme, options: RtnOptions = {}): QuantizedWeight {
  return run(W, scheme, options, undefined);
}

/**
 * {@link quantizeRtn} that also sums Σw² and Σ(w − ŵ)² while it rounds, so that the weight SQNR
 * needs neither a dequantized copy nor a second pass. The sums run in element order, so they are
 * bit for bit those of a separate pass over `dequantize(weight)`.
 */
export function quantizeRtnMeasured(W: MatrixLike, scheme: QuantScheme, options: RtnOptions = {}): MeasuredRtn {
  const sums = new Float64Array(2);
  const weight = run(W, scheme, options, sums);
  return { weight, signal: sums[0], noise: sums[1] };
}

function run(W: MatrixLike, scheme: QuantScheme, options: RtnOptions, sums: Float64Array | undefined): QuantizedWeight {
  const { rows, cols, data } = W;
  if (data.length !== rows * cols) throw new RangeError(`weight has ${data.length} values, expected ${rows}×${cols}`);
  const layout = layoutFor(scheme, rows, cols);
  const { bits, symmetric, qmin, qmax, groupSize, groupsPerRow } = layout;
  const n = scaleCount(layout);
  const codes = options.codes ?? (symmetric ? new Int8Array(rows * cols) : new Uint8Array(rows * cols));
  if (codes.length !== rows * cols || (codes instanceof Int8Array) !== symmetric) throw new RangeError(`codes must be ${symmetric ? 'an Int8Array' : 'a Uint8Array'} of ${rows * cols}`);
  const scales = new Float32Array(n);
  const zeroPoints = symmetric ? new Int8Array(n) : new Uint8Array(n);

  if (layout.granularity === 'tensor') {
    const [lo, hi] = data.length === 0 ? [0, 0] : rangeOf(data, 0, data.length);
    const { scale, zeroPoint } = quantParams(lo, hi, bits, symmetric);
    scales[0] = scale;
    zeroPoints[0] = zeroPoint;
    roundRun(data, codes, 0, data.length, scale, zeroPoint, qmin, qmax, sums);
    return { layout, codes, scales, zeroPoints };
  }

  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let g = 0; g < groupsPerRow; g++) {
      const c0 = base + g * groupSize;
      const c1 = Math.min(c0 + groupSize, base + cols);
      const [lo, hi] = c1 > c0 ? rangeOf(data, c0, c1) : [0, 0];
      const { scale, zeroPoint } = quantParams(lo, hi, bits, symmetric);
      const s = r * groupsPerRow + g;
      scales[s] = scale;
      zeroPoints[s] = zeroPoint;
      roundRun(data, codes, c0, c1, scale, zeroPoint, qmin, qmax, sums);
    }
  }
  return { layout, codes, scales, zeroPoints };
}

/** [min, max] of data[i0..i1); NaN is skipped, as no comparison with it holds. */
function rangeOf(data: ArrayLike<number>, i0: number, i1: number): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = i0; i < i1; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Adding and subtracting 1.5·2⁵² rounds a double of magnitude below 2⁵¹ to an integer, ties to even (the FPU's own rounding). */
const ROUNDER = 6755399441055744;

/**
 * codes[i] = saturate(round_half_even(f32(x / scale)) + zeroPoint) for i in [i0, i1): the value
 * `quantizeValue` gives, inlined by hand because this loop is the whole cost of RTN and a call per
 * element with Math.floor and its tie checks costs several times the arithmetic. With `sums`,
 * Σx² and Σ(x − f32((q − zp)·scale))² are added to sums[0] and sums[1].
 */
function roundRun(data: ArrayLike<number>, codes: Int8Array | Uint8Array, i0: number, i1: number, scale: number, zeroPoint: number, qmin: number, qmax: number, sums: Float64Array | undefined): void {
  // Clamping x first keeps it in the rounder's range; one step beyond the code range still saturates to the same code.
  const lo = qmin - zeroPoint - 1, hi = qmax - zeroPoint + 1;
  if (scale === 0) codes.fill(zeroPoint < qmin ? qmin : zeroPoint > qmax ? qmax : zeroPoint, i0, i1);
  else {
    for (let i = i0; i < i1; i++) {
      let x = Math.fround(data[i] / scale);
      x = x < lo ? lo : x > hi ? hi : x;
      const q = x + ROUNDER - ROUNDER + zeroPoint;
      // NaN fails every comparison; ONNX leaves its code open, we give the zero point.
      codes[i] = q < qmin ? qmin : q > qmax ? qmax : q === q ? q : zeroPoint;
    }
  }
  if (!sums) return;
  let signal = sums[0], noise = sums[1];
  for (let i = i0; i < i1; i++) {
    const x = data[i];
    const e = x - Math.fround((codes[i] - zeroPoint) * scale);
    signal += x * x;
    noise += e * e;
  }
  sums[0] = signal;
  sums[1] = noise;
}
