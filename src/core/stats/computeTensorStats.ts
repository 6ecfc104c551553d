import { FirstPass, type FirstPassResult } from './FirstPass';
import { resolveLayout, type MatrixLayout } from './MatrixLayout';
import { SecondPass } from './SecondPass';
import { summarizeChannels } from './summarizeChannels';
import type { Histogram, TensorStats } from './TensorStats';

/** A tensor's values in row-major order, as a fresh iterable each time it is called (once per pass). */
export type ChunkSource = () => AsyncIterable<Float32Array | Float64Array>;

/** Options for {@link computeTensorStats}. */
export interface TensorStatsOptions {
  /**
   * How to see the tensor as a weight matrix (see {@link MatrixLayout}). Default: rank ≥ 2 is
   * `[shape[0], rest]` with outputs on axis 0; pass `null` to skip channel statistics.
   * ONNX MatMul weights `[in, out]` need `{ rows: in, cols: out, outAxis: 1 }`.
   */
  readonly layout?: MatrixLayout | null;
  /** Histogram bins (default 256). */
  readonly bins?: number;
  /** Group size along the input axis for the INT4 group schemes (default 128). */
  readonly groupSize?: number;
  /** How many top channels to list per axis (default 8). */
  readonly topK?: number;
  /** Include the absmax of every channel (default true; the UI charts it). */
  readonly includeChannelValues?: boolean;
  /** Checked between chunks; when aborted the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Checked between chunks; returning true rejects with a {@link StatsCancelledError}. */
  readonly isCancelled?: () => boolean;
  /** Called after each chunk with the fraction of the work done, in [0, 1]. */
  readonly onProgress?: (fraction: number) => void;
}

/** Thrown when {@link TensorStatsOptions.isCancelled} asks to stop. */
export class StatsCancelledError extends Error {
  constructor() {
    super('statistics cancelled');
    this.name = 'AbortError';
  }
}

interface Pass {
  push(chunk: Float32Array | Float64Array): void;
}

/** Feeds every chunk of `source` to `pass`, checking cancellation and the element count. */
async function drive(source: ChunkSource, pass: Pass, total: number, options: TensorStatsOptions, base: number, share: number): Promise<void> {
  let seen = 0;
  for await (const chunk of source()) {
    options.signal?.throwIfAborted();
    if (options.isCancelled?.()) throw new StatsCancelledError();
    if (seen + chunk.length > total) throw new RangeError(`the tensor source gave more than the ${total} elements its shape declares`);
    pass.push(chunk);
    seen += chunk.length;
    options.onProgress?.(base + (total > 0 ? share * (seen / total) : share));
  }
  options.signal?.throwIfAborted();
  if (options.isCancelled?.()) throw new StatsCancelledError();
  if (seen !== total) throw new RangeError(`the tensor source ended after ${seen} of the ${total} elements its shape declares`);
}

function histogram(edges: Float64Array, counts: Float64Array): Histogram {
  return { edges: Array.from(edges), counts: Array.from(counts) };
}

/**
 * All weight statistics of one tensor, streamed in two passes over `source` (which is called
 * once per pass and must yield the same values in the same row-major order both times):
 *
 * 1. count, min, max, absmax, mean, std, kurtosis, fractions of zeros / NaN / Inf, and the
 *    absmax of every row and column (see {@link FirstPass});
 * 2. the 3σ and 6σ outlier fractions, the linear and log-|x| histograms, and the quantization
 *    error of each scheme, which all need pass-1 results (see {@link SecondPass}). Pass 2 is
 *    skipped when no value is finite.
 *
 * NaN and ±Inf are counted but excluded from the moments, extremes, histograms and outlier
 * fractions, and count as 0 for the quantization error. Everything accumulates in float64;
 * memory is O(rows + cols) plus, for `[in, out]` layouts, one block of `groupSize` rows.
 */
export async function computeTensorStats(source: ChunkSource, shape: readonly number[], options: TensorStatsOptions = {}): Promise<TensorStats> {
  let total = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`invalid tensor shape [${shape.join(', ')}]`);
    total *= d;
  }
  if (!Number.isSafeInteger(total)) throw new RangeError(`tensor shape [${shape.join(', ')}] has too many elements`);
  const bins = options.bins ?? 256;
  const groupSize = options.groupSize ?? 128;
  if (!Number.isSafeInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  if (!Number.isSafeInteger(groupSize) || groupSize < 1) throw new RangeError(`groupSize must be a positive integer, got ${groupSize}`);
  const layout = resolveLayout(shape, options.layout);

  const first = new FirstPass(layout);
  await drive(source, first, total, options, 0, 0.5);
  const r1 = first.finish();
  const m = r1.moments;
  const finite = m.n;
  const constant = finite > 0 && r1.min === r1.max;
  // A constant tensor has σ = 0 exactly; the rounded mean could otherwise leave a spurious σ of 1e-17.
  const mean = finite === 0 ? null : constant ? r1.min : m.mean;
  const variance = finite === 0 ? null : constant ? 0 : m.m2 / finite;
  const std = variance === null ? null : Math.sqrt(variance);
  const kurtosis = variance !== null && variance > 0 ? (m.m4 / finite) / (variance * variance) : null;

  let second: SecondPass | null = null;
  if (finite > 0) {
    second = new SecondPass(r1, std ?? 0, layout, bins, groupSize);
    await drive(source, second, total, options, 0.5, 0.5);
  }
  options.onProgress?.(1);
  return assemble(shape, r1, mean, std, kurtosis, second, layout, options);
}

function assemble(
  shape: readonly number[],
  r1: FirstPassResult,
  mean: number | null,
  std: number | null,
  kurtosis: number | null,
  second: SecondPass | null,
  layout: MatrixLayout | null,
  options: TensorStatsOptions,
): TensorStats {
  const count = r1.count;
  const finite = r1.moments.n;
  const fraction = (k: number, of: number): number | null => (of > 0 ? k / of : null);
  const topK = options.topK ?? 8;
  const values = options.includeChannelValues ?? true;
  const ch = r1.channels;
  return {
    shape: [...shape],
    count,
    finiteCount: finite,
    min: finite > 0 ? r1.min : null,
    max: finite > 0 ? r1.max : null,
    absmax: finite > 0 ? Math.max(-r1.min, r1.max) : null,
    mean,
    std,
    kurtosis,
    zeroFraction: fraction(r1.zeros, count),
    nanFraction: fraction(r1.nan, count),
    infFraction: fraction(r1.posInf + r1.negInf, count),
    outlierFraction3Sigma: second ? fraction(second.outliers3, finite) : null,
    outlierFraction6Sigma: second ? fraction(second.outliers6, finite) : null,
    histogram: second ? histogram(second.histogram.edges, second.histogram.counts) : null,
    logHistogram: second?.logHistogram ? histogram(second.logHistogram.edges, second.logHistogram.counts) : null,
    channels: ch && layout
      ? { layout, output: summarizeChannels(ch.outputAbsmax, topK, values), input: summarizeChannels(ch.inputAbsmax, topK, values) }
      : null,
    quantization: second ? second.quant.results() : [],
  };
}
