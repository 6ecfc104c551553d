/**
 * The method table: every transform the product offers, in the order menus list them. The
 * pipeline, the CLI's options and help, the QuickPicks, recipes and reports all read it; adding a
 * method is one entry here plus its kernel.
 */
import type { LayerReport, QuantizeParams, QuantizeReport } from '../../protocol/quantizeTypes';
import type { PruneLayerReport, PruneParams, PruneReport } from '../../protocol/pruneTypes';
import type { TransformMethod } from './TransformMethod';
import { GPTQ, LLM_INT8, PLAN, RTN, SMOOTHQUANT } from './quantize/quantizeMethods';
import { MAGNITUDE, NM, SPARSEGPT } from './prune/pruneMethods';

/** The entry type of each quantization method, keyed by its name. */
export type QuantizeMethods = { readonly [M in QuantizeParams['method']]: TransformMethod<Extract<QuantizeParams, { readonly method: M }>, LayerReport, QuantizeReport> };
/** The entry type of each pruning method, keyed by its name. */
export type PruneMethods = { readonly [M in PruneParams['method']]: TransformMethod<Extract<PruneParams, { readonly method: M }>, PruneLayerReport, PruneReport> };

/** A quantization entry as the quantize job sees it. */
export type QuantizeEntry = TransformMethod<QuantizeParams, LayerReport, QuantizeReport>;
/** A pruning entry as the prune job sees it. */
export type PruneEntry = TransformMethod<PruneParams, PruneLayerReport, PruneReport>;

/** Every method, keyed by the name its parameters carry in `method`. */
export const METHODS: QuantizeMethods & PruneMethods = {
  rtn: RTN,
  gptq: GPTQ,
  smoothquant: SMOOTHQUANT,
  llmint8: LLM_INT8,
  plan: PLAN,
  magnitude: MAGNITUDE,
  nm: NM,
  sparsegpt: SPARSEGPT,
};

/** The quantization entries of {@link METHODS}, typed for the quantize job. */
export const QUANTIZE_METHODS: Readonly<Record<QuantizeParams['method'], QuantizeEntry>> = METHODS;
/** The pruning entries of {@link METHODS}, typed for the prune job. */
export const PRUNE_METHODS: Readonly<Record<PruneParams['method'], PruneEntry>> = METHODS;
