/**
 * Messages between the extension host and its webviews. Each side sends one union and receives
 * the other; `type` discriminates. No `any` crosses this boundary.
 */
import type { ModelSummary } from './workerProtocol';

/** Host → checkpoint editor. */
export type EditorHostMessage =
  | { readonly type: 'loading'; readonly fileName: string }
  | { readonly type: 'summary'; readonly summary: ModelSummary }
  | { readonly type: 'error'; readonly fileName: string; readonly message: string; readonly kind: 'format' | 'internal' };

/** Checkpoint editor → host. */
export type EditorWebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'reload' }
  | { readonly type: 'command'; readonly command: 'profile' | 'quantize' | 'benchmark' | 'showText' };

/** Host → outliers view. */
export type OutliersHostMessage =
  | { readonly type: 'empty'; readonly reason: string }
  | {
      readonly type: 'heatmap';
      readonly model: string;
      readonly source: 'weights' | 'activations';
      readonly layers: readonly string[];
      /** Number of channel columns after max-pooling. */
      readonly columns: number;
      /** Row-major layers × columns, log10 of the channel absmax (NaN where a layer is narrower). */
      readonly values: readonly number[];
    };

/** Outliers view → host. */
export type OutliersWebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'reveal'; readonly layer: string };
