/** Supported code widths. */
export type QuantBits = 3 | 4 | 8;

/**
 * How many weights share one scale. Our canonical weight is W [out, in] row-major (the PyTorch
 * and GPTQ convention): `channel` means one scale per output row, and `group` means runs of
 * `groupSize` consecutive weights along the input axis within a row (the last run of a row is
 * shorter when `groupSize` does not divide `in`).
 */
export type QuantGranularity = 'tensor' | 'channel' | 'group';

/**
 * A quantization scheme.
 *
 * Symmetric schemes use the signed range [−2^(b−1), 2^(b−1)−1] with zero point 0 and
 * scale = absmax / (2^(b−1)−1), so −absmax maps to −qmax and the most negative code is unused;
 * this keeps zero exact and the grid symmetric, and `int8`/`int4` zero points stay 0 as ONNX
 * expects. Asymmetric schemes use the unsigned range [0, 2^b−1] with a zero point.
 */
export interface QuantScheme {
  /** Code width. */
  readonly bits: QuantBits;
  /** Signed codes with zero point 0 when true; unsigned codes with a zero point when false. */
  readonly symmetric: boolean;
  /** Which weights share a scale. */
  readonly granularity: QuantGranularity;
  /** Run length along the input axis for `group` (typically 32, 64, 128 or 256). */
  readonly groupSize?: number;
}

/** Where each scale applies in a quantized W [rows = out, cols = in]. */
export interface QuantLayout {
  /** Output channels (rows of W). */
  readonly rows: number;
  /** Input channels (columns of W); groups run along this axis. */
  readonly cols: number;
  /** Code width. */
  readonly bits: QuantBits;
  /** Whether codes are signed with zero point 0. */
  readonly symmetric: boolean;
  /** Which weights share a scale. */
  readonly granularity: QuantGranularity;
  /** Weights per scale along the input axis: `cols` for channel and tensor, the group size for group. */
  readonly groupSize: number;
  /** Scales per row: ceil(cols / groupSize); 1 for channel; for tensor there is one scale in all. */
  readonly groupsPerRow: number;
  /** Smallest code. */
  readonly qmin: number;
  /** Largest code. */
  readonly qmax: number;
}

/**
 * A quantized weight: codes, float32 scales and zero points, as ONNX stores them. Scales and zero
 * points are row-major [rows, groupsPerRow] (length 1 for per-tensor). The dequantized value of
 * W[r, c] is (codes[r·cols + c] − zp)·scale with the scale at {@link scaleIndex}(layout, r, c).
 */
export interface QuantizedWeight {
  /** Layout of codes, scales and zero points. */
  readonly layout: QuantLayout;
  /** Codes, row-major [rows, cols]: Int8Array when symmetric, Uint8Array when asymmetric. */
  readonly codes: Int8Array | Uint8Array;
  /** Float32 scales, exactly the values to write into the model. */
  readonly scales: Float32Array;
  /** Zero points, same type as the codes (all 0 when symmetric). */
  readonly zeroPoints: Int8Array | Uint8Array;
}

/** The code range of a scheme: signed [−2^(b−1), 2^(b−1)−1] or unsigned [0, 2^b−1]. */
export function codeRange(bits: QuantBits, symmetric: boolean): { readonly qmin: number; readonly qmax: number } {
  return symmetric ? { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 } : { qmin: 0, qmax: 2 ** bits - 1 };
}

/** The layout of `scheme` applied to a [rows, cols] weight; validates the scheme. */
export function layoutFor(scheme: QuantScheme, rows: number, cols: number): QuantLayout {
  if (scheme.bits !== 3 && scheme.bits !== 4 && scheme.bits !== 8) throw new RangeError(`unsupported bit width ${String(scheme.bits)}`);
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`invalid weight shape ${rows}×${cols}`);
  const { qmin, qmax } = codeRange(scheme.bits, scheme.symmetric);
  const base = { rows, cols, bits: scheme.bits, symmetric: scheme.symmetric, qmin, qmax };
  switch (scheme.granularity) {
    case 'tensor':
      return { ...base, granularity: 'tensor', groupSize: cols, groupsPerRow: 1 };
    case 'channel':
      return { ...base, granularity: 'channel', groupSize: cols, groupsPerRow: 1 };
    case 'group': {
      const g = scheme.groupSize;
      if (g === undefined || !Number.isInteger(g) || g < 1) throw new RangeError(`group quantization needs a positive integer group size, got ${String(g)}`);
      return { ...base, granularity: 'group', groupSize: g, groupsPerRow: Math.max(1, Math.ceil(cols / g)) };
    }
    default:
      throw new RangeError(`unknown granularity ${String(scheme.granularity)}`);
  }
}

/** Number of scales (and zero points) the layout stores. */
export function scaleCount(layout: QuantLayout): number {
  return layout.granularity === 'tensor' ? 1 : layout.rows * layout.groupsPerRow;
}

/** Index into `scales`/`zeroPoints` of the scale that applies to W[r, c]. */
export function scaleIndex(layout: QuantLayout, r: number, c: number): number {
  if (layout.granularity === 'tensor') return 0;
  return r * layout.groupsPerRow + Math.floor(c / layout.groupSize);
}
