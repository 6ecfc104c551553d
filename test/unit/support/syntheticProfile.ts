/**
 * A whole-model profile of the shape a 7B decoder gives (blocks × seven projections, `d` input
 * channels each), built from seeded numbers rather than by profiling real weights, which at that
 * size would take minutes: for timing the findings engine and the path its results take.
 * Every block's q/k/v projections carry activation outliers on a few channels, and one in eight
 * weights has a heavy tail, so the engine has findings to write.
 */
import type { ChannelSummary, Histogram, QuantErrorStats, TensorStats } from '../../../src/protocol/statsTypes';
import type { HeatmapData, LayerProfile, ModelProfile, TensorProfile, WeightProfile } from '../../../src/protocol/workerProtocol';
import { seededRandom } from '../../../src/core/random/seededRandom';

/** The size of a synthetic profile. */
export interface SyntheticProfileShape {
  readonly blocks: number;
  /** Input and output channels of every projection. */
  readonly d: number;
}

/** The shape of a 7B decoder: 32 blocks of seven projections, 4,096 channels. */
export const SEVEN_B: SyntheticProfileShape = { blocks: 32, d: 4096 };

const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

function histogram(lo: number, hi: number, bins: number, next: () => number): Histogram {
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const counts = Array.from({ length: bins }, (_, i) => Math.round(1e4 * Math.exp(-(((i - bins / 2) / (bins / 8)) ** 2)) * (0.9 + 0.2 * next())));
  return { edges, counts };
}

function channels(d: number, next: () => number, outliers: readonly number[], factor: number): number[] {
  const a = Array.from({ length: d }, () => 0.05 + 0.02 * next());
  for (const j of outliers) a[j] *= factor;
  return a;
}

function summary(absmax: number[]): ChannelSummary {
  const sorted = [...absmax].sort((x, y) => x - y);
  const median = (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
  const max = sorted[sorted.length - 1];
  const top = absmax.map((v, index) => ({ index, absmax: v })).sort((x, y) => y.absmax - x.absmax || x.index - y.index).slice(0, 8);
  return { count: absmax.length, max, median, maxOverMedian: max / median, top, absmax };
}

function quantization(heavy: boolean): QuantErrorStats[] {
  const q = (scheme: QuantErrorStats['scheme'], bits: 4 | 8, granularity: QuantErrorStats['granularity'], sqnrDb: number): QuantErrorStats => ({
    scheme, bits, granularity, symmetric: scheme !== 'int4-group-asym', ...(granularity === 'group' ? { groupSize: 128 } : {}), sqnrDb, relativeError: 10 ** (-sqnrDb / 20), lossless: false,
  });
  return [q('int8-per-tensor', 8, 'tensor', heavy ? 28 : 38), q('int8-per-channel', 8, 'channel', 41), q('int4-per-channel', 4, 'channel', 18), q('int4-group-sym', 4, 'group', heavy ? 12 : 20), q('int4-group-asym', 4, 'group', 21)];
}

/** A seeded profile of `shape` for the file `path`: the weights, and a calibration with sensitivity. */
export function syntheticProfile(path: string, shape: SyntheticProfileShape = SEVEN_B): ModelProfile {
  const next = seededRandom(7);
  const { d } = shape;
  const tensors: TensorProfile[] = [];
  const layers: LayerProfile[] = [];
  for (let b = 0; b < shape.blocks; b++) {
    for (const p of PROJECTIONS) {
      const name = `model.layers.${b}.${p === 'gate_proj' || p === 'up_proj' || p === 'down_proj' ? 'mlp' : 'self_attn'}.${p}.weight`;
      const layer = `/model/layers.${b}/${p}/MatMul`;
      const heavy = (tensors.length & 7) === 3;
      const stats: TensorStats = {
        shape: [d, d], count: d * d, finiteCount: d * d, min: -0.3, max: 0.3, absmax: 0.3, mean: 0, std: 0.02, kurtosis: heavy ? 14 : 3.1,
        zeroFraction: 0, nanFraction: 0, infFraction: 0, outlierFraction3Sigma: 0.003, outlierFraction6Sigma: heavy ? 1e-4 : 0,
        histogram: histogram(-0.3, 0.3, 256, next), logHistogram: histogram(-7, -0.5, 256, next),
        channels: { layout: { rows: d, cols: d, outAxis: 0 }, output: summary(channels(d, next, [], 1)), input: summary(channels(d, next, heavy ? [5] : [], 30)) },
        quantization: quantization(heavy),
      };
      tensors.push({ name, dtype: 'F16', shape: [d, d], layer, stats });
      const outliers = p === 'q_proj' || p === 'k_proj' || p === 'v_proj' ? [3, 11, 19, 27, 1000 + b] : [];
      const absmax = channels(d, next, outliers, 400);
      const int4 = 0.001 + 0.02 * next();
      const candidates = [
        { id: 'int8-channel', label: 'INT8 per-channel', error: int4 / 40, relativeError: int4 / 40, bitsPerWeight: 8.06 },
        { id: 'int4-g128', label: 'INT4 g128', error: int4, relativeError: int4, bitsPerWeight: 4.25 },
        { id: 'int4-channel', label: 'INT4 per-channel', error: int4 * 3, relativeError: int4 * 3, bitsPerWeight: 4.01 },
        { id: 'prune-2:4', label: '2:4', error: int4 * 4, relativeError: int4 * 4, bitsPerWeight: null },
      ];
      layers.push({
        layer, opType: 'MatMul', weight: name, weightShape: [d, d], d, absmax,
        outliers: { int8: outliers.length, scaleFree: outliers.length }, difficulty: 400, rows: 2048, traceOverD: 1,
        sensitivity: { d, traceH: d, traceHPerDim: 1, topEigenvalue: 40, eigenConverged: true, eigenIterations: 30, outputEnergy: 1, candidates },
      });
    }
  }
  [...layers].sort((x, y) => (y.sensitivity?.candidates[1].relativeError ?? 0) - (x.sensitivity?.candidates[1].relativeError ?? 0)).forEach((l, i) => Object.assign(l, { rank: i + 1 }));
  const heatmap = (rows: readonly LayerProfile[]): HeatmapData => ({
    layers: rows.map((l) => l.layer), members: rows.map((l) => [l.weight]), columns: 128, maxChannels: d,
    values: rows.flatMap(() => Array.from({ length: 128 }, () => -1.2 + 0.1 * next())),
  });
  const weights: WeightProfile = { path, format: 'onnx', tensors, skipped: 0, heatmap: heatmap(layers), shared: [], elapsedMs: 0 };
  return {
    path, weights, layers,
    calibration: { synthetic: true, batches: 8, threshold: 6, scaleFreeFactor: 20, skipped: [], hessianBytes: 0, seconds: 0 },
    activationHeatmap: heatmap(layers),
  };
}
