/**
 * Activation statistics from calibration: runs a tapped copy of the model (see
 * {@link buildCalibrationTaps}) in ONNX Runtime over calibration batches and accumulates, per
 * layer, the input-channel absmax (max over batches), H = Σ XᵀX in Float64 and the row count.
 */
import { readFile } from 'node:fs/promises';
import { FormatError } from '../../core/FormatError';
import { OnnxModel } from '../../core/onnx/OnnxModel';
import { buildCalibrationTaps, type CalibrationTap, type SkippedLayer, type TapOutputs } from '../../core/calibration/calibrationTaps';
import { calibrationFiles, declaredInputs, SyntheticInputs, type Batch, type SyntheticOptions } from '../../core/calibration/calibrationInputs';
import { INT8_OUTLIER_THRESHOLD } from '../../core/onnx/rewrite/int8Decomposition';
import { medianOfSorted } from '../../core/stats/maxOverMedian';
import { formatBytes } from '../../core/tensor/formatBytes';
import { throwIfCancelled, type JobContext } from './JobContext';
import { openSession, type RunTensor } from '../ort';

/** Options for {@link calibrate}. */
export interface CalibrateOptions extends SyntheticOptions {
  /** Calibration files or folders (see {@link calibrationFiles}); without them inputs are generated. */
  readonly files?: readonly string[];
  /** Batches the caller built (tokenized text, held-out data); they win over files and generation. */
  readonly feeds?: readonly Batch[];
  /** Batches to run: with generated inputs default 8; with files or feeds at most this many (default all). */
  readonly batches?: number;
  /** Inputs fed unchanged in every batch (model state, sample rate, …); they win over files and generation. */
  readonly fixedInputs?: Readonly<Batch>;
  /** LLM.int8()'s outlier magnitude: channels with absmax ≥ this count as outliers. Default 6. */
  readonly threshold?: number;
  /** The scale-free criterion: channels with absmax > this × the median channel absmax. Default 20. */
  readonly scaleFreeFactor?: number;
  /** Largest total size of the d×d Float64 Hessians. Default 4 GiB. */
  readonly memoryBudgetBytes?: number;
  /** Tap only these layers (by layer name); default all. */
  readonly layers?: readonly string[];
  /** ONNX Runtime intra-op threads (0: its default). */
  readonly threads?: number;
}

/** Activation statistics of one layer, all JSON-able. */
export interface LayerActivationStats extends Pick<CalibrationTap, 'layer' | 'opType' | 'weight' | 'weightShape' | 'd' | 'weightTransposed'> {
  /** Max |X| per input channel over all calibration rows. */
  readonly absmax: number[];
  /** Outlier channel counts: LLM.int8() (absmax ≥ threshold) and scale-free (absmax > factor × median). */
  readonly outliers: { readonly int8: number; readonly scaleFree: number };
  /** SmoothQuant's difficulty: max / median channel absmax; null when the median is 0. */
  readonly difficulty: number | null;
  readonly rows: number;
  /** tr(H)/d with H = Σ XᵀX (not divided by the rows). */
  readonly traceOverD: number;
}

/** One layer with its Hessian. Layers that read the same activation share the same array. */
export interface LayerCalibration extends LayerActivationStats {
  /** H = Σ XᵀX, row-major d×d Float64. */
  readonly hessian: Float64Array;
}

/** The JSON-able part of a calibration: what goes over JSON-RPC (no Hessians). */
export interface CalibrationSummary {
  /** True when the inputs were generated rather than given: the statistics are synthetic. */
  readonly synthetic: boolean;
  readonly batches: number;
  readonly threshold: number;
  readonly scaleFreeFactor: number;
  readonly layers: readonly LayerActivationStats[];
  readonly skipped: readonly SkippedLayer[];
  /** Bytes the Hessians take. */
  readonly hessianBytes: number;
  readonly seconds: number;
}

/** A calibration with the Hessians, for the quantization code. */
export interface CalibrationResult extends CalibrationSummary {
  readonly layers: readonly LayerCalibration[];
}

/** Running sums for one tapped activation. */
class TapAccumulator {
  readonly absmax: Float32Array;
  readonly hessian: Float64Array;
  rows = 0;

  constructor(readonly d: number, readonly outputs: TapOutputs) {
    this.absmax = new Float32Array(d);
    this.hessian = new Float64Array(d * d);
  }

  add(result: Readonly<Record<string, RunTensor>>): void {
    const absmax = result[this.outputs.absmax]?.data;
    const rows = result[this.outputs.rows]?.data;
    const gram = this.outputs.gram === undefined ? undefined : result[this.outputs.gram]?.data;
    if (!(absmax instanceof Float32Array) || absmax.length !== this.d) throw new Error(`tap ${this.outputs.absmax} gave no [${this.d}] float tensor`);
    if (!(rows instanceof BigInt64Array) || rows.length !== 1) throw new Error(`tap ${this.outputs.rows} gave no int64 scalar`);
    const n = Number(rows[0]);
    if (n === 0) return;
    for (let i = 0; i < this.d; i++) if (absmax[i] > this.absmax[i] || Number.isNaN(absmax[i])) this.absmax[i] = absmax[i];
    if (gram !== undefined) {
      if (!(gram instanceof Float32Array) || gram.length !== this.d * this.d) throw new Error(`tap ${this.outputs.gram ?? ''} gave no [${this.d}, ${this.d}] float tensor`);
      const H = this.hessian;
      for (let i = 0; i < gram.length; i++) H[i] += gram[i];
    }
    this.rows += n;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The statistics of one layer from its accumulated taps. */
export function layerStats(tap: CalibrationTap, acc: { readonly absmax: Float32Array; readonly hessian: Float64Array; readonly rows: number }, threshold: number, scaleFreeFactor: number): LayerActivationStats {
  const d = tap.d;
  const absmax = Array.from(acc.absmax);
  const sorted = Float64Array.from(absmax).sort();
  const med = medianOfSorted(sorted);
  const max = sorted.length ? sorted[sorted.length - 1] : 0;
  let int8 = 0;
  let scaleFree = 0;
  for (const a of absmax) {
    if (a >= threshold) int8++;
    if (a > scaleFreeFactor * med) scaleFree++;
  }
  let trace = 0;
  for (let i = 0; i < d; i++) trace += acc.hessian[i * d + i];
  return {
    layer: tap.layer, opType: tap.opType, weight: tap.weight, weightShape: tap.weightShape, d, weightTransposed: tap.weightTransposed,
    absmax, outliers: { int8, scaleFree }, difficulty: med > 0 ? max / med : null, rows: acc.rows, traceOverD: d ? trace / d : 0,
  };
}

/** The JSON-able summary of a result: everything but the Hessians. */
export function summarizeCalibration(result: CalibrationResult): CalibrationSummary {
  return {
    ...result,
    // Copy field by field: the layer objects also carry their Hessian.
    layers: result.layers.map(({ hessian: _h, ...rest }) => rest),
  };
}

/**
 * Calibrates `model` (a path or a loaded model; it is not changed): taps every MatMul/Gemm with
 * a constant weight, runs the tapped copy in ONNX Runtime over the batches and accumulates the
 * statistics. Refuses before running when the Hessians would exceed the memory budget.
 */
export async function calibrate(model: string | OnnxModel, options: CalibrateOptions = {}, ctx: JobContext): Promise<CalibrationResult> {
  const t0 = performance.now();
  let fileBytes: Uint8Array | undefined;
  let source: OnnxModel;
  if (typeof model === 'string') {
    const bytes = await readFile(model).catch((e: unknown) => {
      throw new FormatError(`cannot read ${model}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    });
    source = OnnxModel.fromBytes(bytes, model);
    fileBytes = bytes;
  } else source = model;
  const wanted = options.layers ? new Set(options.layers) : undefined;
  const tapped = buildCalibrationTaps(source, wanted ? { include: (l) => wanted.has(l) } : {});
  const { taps, skipped } = tapped;
  if (!taps.length) throw new FormatError('the model has no MatMul or Gemm with a constant weight in its main graph to calibrate');

  const accs = new Map<TapOutputs, TapAccumulator>();
  for (const t of taps) if (!accs.has(t.outputs)) accs.set(t.outputs, new TapAccumulator(t.d, t.outputs));
  const hessianBytes = [...accs.values()].reduce((s, a) => s + a.d * a.d * 8, 0);
  const budget = options.memoryBudgetBytes ?? 4 * 2 ** 30;
  if (hessianBytes > budget) {
    const widest = Math.max(...taps.map((t) => t.d));
    throw new FormatError(
      `calibration needs ${formatBytes(hessianBytes)} for the Hessians of ${accs.size} activations (d up to ${widest}), more than the ${formatBytes(budget)} budget; raise the budget or calibrate fewer layers at a time (see groupTapsByMemory)`,
    );
  }

  const specs = declaredInputs(source);
  const fixed = options.fixedInputs ?? {};
  const free = specs.filter((s) => !(s.name in fixed));
  const given = options.feeds;
  const files = !given && options.files?.length ? await calibrationFiles(options.files, free) : undefined;
  const synthetic = !given && files === undefined;
  const generator = synthetic ? new SyntheticInputs(free, options) : undefined;
  const available = given?.length ?? files?.count;
  const batches = available === undefined ? options.batches ?? 8 : Math.min(available, options.batches ?? available);
  const fetches = [...accs.keys()].flatMap((o) => (o.gram === undefined ? [o.absmax, o.rows] : [o.absmax, o.gram, o.rows]));

  ctx.progress('loading the tapped model', 0);
  // A file read as it is gets the taps appended as a protobuf fragment, which saves re-encoding
  // the whole model; external data must be inlined, so such models are re-encoded.
  const bytes = fileBytes && !source.hasExternalData() ? concat(fileBytes, tapped.appendix) : tapped.model.toBytes();
  const session = await openSession(bytes, { threads: options.threads });
  try {
    for (let b = 0; b < batches; b++) {
      throwIfCancelled(ctx);
      const batch: Batch = { ...(given ? given[b] : files ? await files.load(b) : generator?.next()), ...fixed };
      const result = await session.run(batch, fetches);
      for (const acc of accs.values()) acc.add(result);
      ctx.progress(`calibration batch ${b + 1} of ${batches}`, (b + 1) / batches);
    }
  } finally {
    await session.release();
  }

  const threshold = options.threshold ?? INT8_OUTLIER_THRESHOLD;
  const scaleFreeFactor = options.scaleFreeFactor ?? 20;
  const layers: LayerCalibration[] = taps.map((t) => {
    const acc = accs.get(t.outputs);
    if (!acc) throw new Error(`no accumulator for ${t.layer}`);
    return { ...layerStats(t, acc, threshold, scaleFreeFactor), hessian: acc.hessian };
  });
  return { synthetic, batches, threshold, scaleFreeFactor, layers, skipped, hessianBytes, seconds: (performance.now() - t0) / 1000 };
}
