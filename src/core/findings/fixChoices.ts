import type { FindingFix } from '../../protocol/findingTypes';
import type { PlanChoice } from '../../protocol/planTypes';
import type { PruneParams } from '../../protocol/pruneTypes';
import type { QuantizeParams } from '../../protocol/quantizeTypes';

/** Omit over each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * The job a fix runs on its layers: a quantize or prune job with the method table's parameters
 * (without the model path), or nothing to run (`keep-float` only goes into a recipe).
 */
export type FixJob =
  | { readonly job: 'quantize'; readonly params: DistributiveOmit<QuantizeParams, 'path'> }
  | { readonly job: 'prune'; readonly params: DistributiveOmit<PruneParams, 'path'> }
  | { readonly job: 'none' };

/** The job that applies `fix` to `layers`, with the recommended settings. */
export function fixJob(fix: FindingFix, layers: readonly string[]): FixJob {
  switch (fix.kind) {
    case 'smoothquant':
      return { job: 'quantize', params: { method: 'smoothquant', bits: 8, format: 'static', alpha: fix.alpha, layers } };
    case 'llmint8':
      return { job: 'quantize', params: { method: 'llmint8', bits: 8, format: 'dynamic', threshold: fix.threshold, layers } };
    case 'int8-channel':
      return { job: 'quantize', params: { method: 'rtn', bits: 8, format: 'qdq', layers } };
    case 'int4-g128':
      return { job: 'quantize', params: { method: 'gptq', bits: 4, format: 'nbits', group: 128, layers } };
    case 'prune-2:4':
      return { job: 'prune', params: { method: 'nm', pattern: { n: 2, m: 4 }, layers } };
    case 'keep-float':
      return { job: 'none' };
  }
}

/**
 * The precision a recipe line takes for `fix`, or undefined when a plan recipe cannot say it
 * (SmoothQuant, LLM.int8() and pruning are transforms of their own, not a precision).
 */
export function planChoiceOf(fix: FindingFix): PlanChoice | undefined {
  switch (fix.kind) {
    case 'int8-channel':
      return 'int8-channel';
    case 'int4-g128':
      return 'int4-g128';
    case 'keep-float':
      return 'float';
    default:
      return undefined;
  }
}

/** Precisions from most to least precise: a recipe that picks a later one than a finding's chooses against it. */
export const PRECISION_ORDER: readonly PlanChoice[] = ['float', 'int8-channel', 'int4-g128', 'int4-channel'];
