/**
 * The statistics of one tensor as plain JSON data: the worker sends this object to the UI and the
 * CLI prints it. Values that do not exist for a tensor (the mean of an empty tensor, the kurtosis
 * of a constant one, the SQNR of a lossless scheme) are `null`, never NaN or Infinity, which JSON
 * cannot carry.
 */
/**
 * How a weight tensor maps onto a matrix of output and input channels: read row-major as
 * `rows × cols`, with the output channels on axis `outAxis` (see core/stats/MatrixLayout).
 */
export interface MatrixLayout {
  readonly rows: number;
  readonly cols: number;
  readonly outAxis: 0 | 1;
}

/** A histogram with `counts.length` equal-width bins; `edges` has one more entry than `counts`. */
export interface Histogram {
  /** Bin edges, ascending. Bin i holds edges[i] ≤ v < edges[i+1]; the last bin also holds v = edges[last]. */
  readonly edges: number[];
  readonly counts: number[];
}

/** One channel that stands out: its index along the axis and its absmax. */
export interface ChannelEntry {
  readonly index: number;
  readonly absmax: number;
}

/** Absmax per channel along one axis of a weight matrix, with a summary. */
export interface ChannelSummary {
  /** Number of channels. */
  readonly count: number;
  readonly max: number;
  /** numpy's median: the mean of the two middle values for an even count. */
  readonly median: number;
  /** max / median; `null` when the median is 0. */
  readonly maxOverMedian: number | null;
  /** The channels with the largest absmax, largest first, ties by lower index. */
  readonly top: ChannelEntry[];
  /** The absmax of every channel, in channel order (omitted when the caller asked not to include it). */
  readonly absmax?: number[];
}

/** Names of the quantization schemes whose error is reported. */
export type QuantSchemeName = 'int8-per-tensor' | 'int8-per-channel' | 'int4-per-channel' | 'int4-group-sym' | 'int4-group-asym';

/** The error a user would get from one quantization scheme (round trip through QuantizeLinear / DequantizeLinear). */
export interface QuantErrorStats {
  readonly scheme: QuantSchemeName;
  readonly bits: 4 | 8;
  readonly granularity: 'tensor' | 'channel' | 'group';
  readonly symmetric: boolean;
  /** Elements per group along the input axis, for group schemes. */
  readonly groupSize?: number;
  /** 10·log10(Σx² / Σ(x − q(x))²); `null` when the round trip is exact or the tensor is all zero. */
  readonly sqnrDb: number | null;
  /** ‖x − q(x)‖ / ‖x‖ (Frobenius); `null` when the tensor is all zero. */
  readonly relativeError: number | null;
  /** True when every value survives the round trip exactly. */
  readonly lossless: boolean;
}

/** Everything {@link computeTensorStats} reports about one tensor. */
export interface TensorStats {
  readonly shape: number[];
  /** Number of elements, including NaN and ±Inf. */
  readonly count: number;
  /** Number of finite elements: the population of every moment, extreme, histogram and outlier fraction. */
  readonly finiteCount: number;
  /** Extremes over finite values. */
  readonly min: number | null;
  readonly max: number | null;
  readonly absmax: number | null;
  readonly mean: number | null;
  /** Population standard deviation (ddof = 0, as numpy's default). */
  readonly std: number | null;
  /** Pearson kurtosis E[z⁴] (3 for a normal distribution); `null` when σ = 0. */
  readonly kurtosis: number | null;
  /** Fractions of all `count` elements. */
  readonly zeroFraction: number | null;
  readonly nanFraction: number | null;
  readonly infFraction: number | null;
  /** Fractions of the finite elements with |x − mean| > 3σ and > 6σ. */
  readonly outlierFraction3Sigma: number | null;
  readonly outlierFraction6Sigma: number | null;
  /** Linear histogram of finite values over [min, max] (widened by ±0.5 when min = max, as numpy does). */
  readonly histogram: Histogram | null;
  /** Histogram of log10|x| over finite nonzero values; edges are in log10 units. */
  readonly logHistogram: Histogram | null;
  /** Per-channel absmax of a weight matrix; `null` for scalars and vectors. */
  readonly channels: {
    readonly layout: MatrixLayout;
    readonly output: ChannelSummary;
    readonly input: ChannelSummary;
  } | null;
  /** Error per quantization scheme; channel and group schemes only for matrices. */
  readonly quantization: QuantErrorStats[];
}
