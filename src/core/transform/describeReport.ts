import type { QuantizeReport } from '../../protocol/quantizeTypes';
import type { PruneReport } from '../../protocol/pruneTypes';
import { PRUNE_METHODS, QUANTIZE_METHODS } from './methods';

/** One line naming the method, scheme and output format of a quantization report, as its table entry words it. */
export function describeQuantize(r: QuantizeReport): string {
  return QUANTIZE_METHODS[r.method].describe(r);
}

/** One line naming the method and pattern or sparsity of a pruning report, as its table entry words it. */
export function describePrune(r: PruneReport): string {
  return PRUNE_METHODS[r.method].describe(r);
}
