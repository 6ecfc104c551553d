/**
 * Messages between the extension host and its webviews. Each side sends one union and receives
 * the other; `type` discriminates. No `any` crosses this boundary.
 */
import type { BenchReport } from './benchTypes';
import type { MemoryPlan, MemorySettings } from './servingTypes';
import type { HeatmapData, ModelProfile, ModelSummary, WeightProfile } from './workerProtocol';

/** The actions the checkpoint editor can offer on a model. */
export type ModelAction = 'profile' | 'calibrate' | 'quantize' | 'prune' | 'benchmark' | 'showText';

/** Whether an action applies to the open model, and if not, why (in words for the user). */
export type ActionAvailability = { readonly offered: true } | { readonly offered: false; readonly reason: string };

/** What applies to one model, derived from its summary and its rewritable layers. */
export type ModelActions = { readonly [A in ModelAction]: ActionAvailability };

/** Host → checkpoint editor. */
export type EditorHostMessage =
  | { readonly type: 'loading'; readonly fileName: string }
  | { readonly type: 'summary'; readonly summary: ModelSummary }
  /** What applies to the model (follows the summary); `notes` say why the rest is not offered. */
  | { readonly type: 'actions'; readonly actions: ModelActions; readonly notes: readonly string[] }
  | { readonly type: 'error'; readonly fileName: string; readonly message: string; readonly kind: 'format' | 'internal' }
  | { readonly type: 'profile'; readonly profile: WeightProfile; readonly fromCache: boolean }
  | { readonly type: 'modelProfile'; readonly profile: ModelProfile; readonly fromCache: boolean }
  /** Select and scroll to a tensor (from the Outliers view, say). */
  | { readonly type: 'reveal'; readonly tensor: string }
  /** The Serving section's memory plan, after the summary and after each change of its settings. */
  | { readonly type: 'serving'; readonly plan: MemoryPlan }
  /** The model has no decoder architecture to plan (or its config is incomplete): why, in words. */
  | { readonly type: 'servingUnavailable'; readonly reason: string };

/** Checkpoint editor → host. */
export type EditorWebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'reload' }
  | { readonly type: 'command'; readonly command: ModelAction; readonly layer?: string }
  /** The Serving section's settings changed: plan again. */
  | { readonly type: 'planServing'; readonly settings: Partial<MemorySettings> };

/** Host → outliers view. */
export type OutliersHostMessage =
  | { readonly type: 'empty'; readonly reason: string }
  | {
      readonly type: 'heatmap';
      readonly model: string;
      /** Weight absmax per input channel, from a profile. */
      readonly weights?: HeatmapData;
      /** Activation absmax per channel, from a calibration. */
      readonly activations?: HeatmapData;
      /** Weight absmax per routed expert (layers × experts), for mixture-of-experts models. */
      readonly experts?: HeatmapData;
      /** Which to show first. */
      readonly show: 'weights' | 'activations';
    };

/** Outliers view → host. */
export type OutliersWebviewMessage =
  | { readonly type: 'ready' }
  /** The user clicked a cell of heatmap row `row`. */
  | { readonly type: 'reveal'; readonly source: 'weights' | 'activations' | 'experts'; readonly row: number };

/** Host → benchmark page. */
export type BenchHostMessage = { readonly type: 'report'; readonly report: BenchReport; readonly savedAs?: string };

/** Benchmark page → host. */
export type BenchWebviewMessage = { readonly type: 'ready' };
