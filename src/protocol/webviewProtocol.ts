/**
 * Messages between the extension host and its webviews. Each side sends one union and receives
 * the other; `type` discriminates. No `any` crosses this boundary.
 */
import type { BenchReport } from './benchTypes';
import type { Finding, FindingFix } from './findingTypes';
import type { MemoryPlan, MemorySettings } from './servingTypes';
import type { HeatmapData, ModelProfile, ModelSummary, WeightProfile } from './workerProtocol';

/** The actions the checkpoint editor can offer on a model. */
export const MODEL_ACTIONS = ['profile', 'calibrate', 'quantize', 'prune', 'benchmark', 'exportOnnx', 'quantizeGguf', 'showText'] as const;
export type ModelAction = (typeof MODEL_ACTIONS)[number];

/** Whether an action applies to the open model, and if not, why (in words for the user). */
export type ActionAvailability = { readonly offered: true } | { readonly offered: false; readonly reason: string };

/** What applies to one model, derived from its summary and its rewritable layers. */
export type ModelActions = { readonly [A in ModelAction]: ActionAvailability };

/** A finding as the webviews show it: with each fix's label, and whether a button can run it. */
export interface Recommendation {
  readonly finding: Finding;
  readonly fixes: readonly { readonly label: string; readonly fix: FindingFix; readonly runs: boolean }[];
}

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
  /** The model's findings, most severe first (empty when there are none or they went stale). */
  | { readonly type: 'findings'; readonly recommendations: readonly Recommendation[] }
  /** The Serving section's memory plan, after the summary and after each change of its settings. */
  | { readonly type: 'serving'; readonly plan: MemoryPlan }
  /** The model has no decoder architecture to plan (or its config is incomplete): why, in words. */
  | { readonly type: 'servingUnavailable'; readonly reason: string };

/** Checkpoint editor → host. */
export type EditorWebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'reload' }
  | { readonly type: 'command'; readonly command: ModelAction; readonly layer?: string }
  /** Run a finding's fix on its layer (the Recommendations section's buttons). */
  | { readonly type: 'applyFix'; readonly layer: string; readonly fix: FindingFix }
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
    }
  /** The shown model's findings: heatmap rows whose layers have one get a badge. */
  | { readonly type: 'findings'; readonly recommendations: readonly Recommendation[] };

/** Outliers view → host. */
export type OutliersWebviewMessage =
  | { readonly type: 'ready' }
  /** The user clicked a cell of heatmap row `row`. */
  | { readonly type: 'reveal'; readonly source: 'weights' | 'activations' | 'experts'; readonly row: number }
  /** Run a finding's fix on its layer. */
  | { readonly type: 'applyFix'; readonly layer: string; readonly fix: FindingFix }
  /** Reveal a layer named by a finding. */
  | { readonly type: 'revealLayer'; readonly layer: string };

/** Host → benchmark page. */
export type BenchHostMessage = { readonly type: 'report'; readonly report: BenchReport; readonly savedAs?: string };

/** Benchmark page → host. */
export type BenchWebviewMessage = { readonly type: 'ready' };
