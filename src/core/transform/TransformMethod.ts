/**
 * A transform method as one entry of the table the whole product reads: its name and words for
 * people, its parameters, what it needs from calibration, its output suffix, and its kernel. The
 * pipeline (worker/jobs/runTransform) runs any entry; nothing else needs to know the method.
 */
import type { LayerGroup, LayerHessian } from '../calibration/layerGroups';
import type { OnnxModel } from '../onnx/OnnxModel';
import type { NameAllocator, SkippedRewrite, WeightTarget } from '../onnx/rewrite';
import type { TransformReportBase, TransformSeconds, TransformSizes, TransformSource } from '../../protocol/transformTypes';
import type { ParamNamer, ParamSpec } from './ParamSpec';

/** The job a method belongs to: its command, its report, its QuickPick. */
export type TransformJob = 'quantize' | 'prune';

/** What a method needs from calibration, given its parameters. */
export interface MethodNeeds {
  /** The method calibrates at all, so the user is asked for data (a plan calibrates to plan, even with RTN weights). */
  readonly calibration: boolean;
  /** Every layer's kernel needs its H; layers calibration cannot reach are skipped. */
  readonly hessian: boolean;
  /** Every layer's kernel needs its input's activation range. */
  readonly activations: boolean;
}

/** Where a running job reports to and asks whether to stop. */
export interface TransformContext {
  readonly isCancelled: () => boolean;
  readonly progress: (message: string, fraction?: number) => void;
}

/** A calibration pass a method runs before its layers (a plan measures every layer first). */
export type CalibrationPass = (
  targets: readonly WeightTarget[],
  visit: (group: LayerGroup, stats: ReadonlyMap<string, LayerHessian>) => void,
  ctx: TransformContext,
) => Promise<{ readonly batches: number; readonly synthetic: boolean }>;

/** What a method's kernel is started with. */
export interface TransformRun<P> {
  /** The parameters, validated. */
  readonly params: P;
  /** The untouched source, which calibration reads. */
  readonly source: OnnxModel;
  /** The copy being rewritten. */
  readonly model: OnnxModel;
  /** The layers the parameters select. */
  readonly targets: readonly WeightTarget[];
  readonly names: NameAllocator;
  readonly ctx: TransformContext;
  /** Runs a calibration pass over `targets` in groups that fit the memory budget. */
  readonly calibrate: CalibrationPass;
}

/** A layer's result: its report, or why it was left as it was. */
export type LayerOutcome<L> = { readonly layer: L } | { readonly skip: string };

/** What the pipeline measured, for the method's report. */
export interface TransformTotals<L> {
  readonly base: TransformReportBase<L>;
  readonly sizes: TransformSizes;
  /** `kernel`: the layer loop's time without calibration. */
  readonly seconds: TransformSeconds & { readonly kernel: number };
}

/** One run of a method's kernel over a model. */
export interface MethodKernel<L, R> {
  /** The layers to transform, when the method narrows the selection (a plan leaves float layers out). */
  readonly targets?: readonly WeightTarget[];
  /** Layers the method left out before the loop, with the reason. */
  readonly skipped?: readonly SkippedRewrite[];
  /** Where the layer loop's progress starts (a plan spends the first part planning). */
  readonly progressStart?: number;
  /** Before a calibration group's layers: rewrite the group (SmoothQuant) and return the statistics and targets its kernels see. */
  group?(targets: readonly WeightTarget[], stats: ReadonlyMap<string, LayerHessian>): { stats: ReadonlyMap<string, LayerHessian>; targets: ReadonlyMap<string, WeightTarget>; skipped: readonly SkippedRewrite[] };
  /** The per-layer kernel. A RangeError skips the layer with its message; cancellation is checked between layers. */
  layer(target: WeightTarget, stats: LayerHessian | undefined): LayerOutcome<L>;
  /** What the written model records about the transform in its metadata. */
  metadata(layers: readonly L[]): unknown;
  /** The report, from the layers and what the pipeline measured. */
  report(totals: TransformTotals<L>): R;
}

/** One entry of the method table. */
export interface TransformMethod<P extends TransformSource & { readonly method: string }, L, R> {
  readonly name: P['method'];
  readonly job: TransformJob;
  /** A short name for people: `GPTQ`, `SmoothQuant + W8A8`. */
  readonly label: string;
  /** One line on what it does, with its paper. */
  readonly description: string;
  /** The parameters besides the source's, in the order help and QuickPicks show them. */
  readonly params: readonly ParamSpec[];
  /** The fields the job's parameters require, filled from the defaults when absent (quantization's bits and format). */
  complete?(given: Omit<P, 'bits' | 'format'> & Partial<P>): P;
  /** Checks across fields that the edges refuse as usage mistakes (a missing budget); names fields with `nameOf`. */
  check?(params: P, nameOf: ParamNamer): void;
  needs(params: P): MethodNeeds;
  /** Whether the front ends show the method's decision for editing before anything is written (a plan without given precisions). */
  editedFirst?(params: P): boolean;
  /** The default output's suffix: `model.<suffix>.onnx`. */
  suffix(params: P): string;
  /** Starts the kernel on a loaded model: checks what the model allows, and prepares per-run state. */
  start(run: TransformRun<P>): MethodKernel<L, R> | Promise<MethodKernel<L, R>>;
  /** One line naming the method and its settings, from a report. */
  describe(report: R): string;
}

/** Any entry of a method table (its members are checked bivariantly, so every entry fits). */
export type AnyTransformMethod = TransformMethod<TransformSource & { readonly method: string }, unknown, unknown>;
