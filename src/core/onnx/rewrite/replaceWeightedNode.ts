import type { OnnxModel } from '../OnnxModel';
import type { NodeMessage } from '../onnxMessages';
import type { WeightTarget } from './weightTargets';

/**
 * Swaps `target`'s node for `replacement` (at the same position, so the order stays topological)
 * and drops the float weight when nothing else reads it. A weight that is also a graph output, or
 * that another node shares, stays. Returns whether the float weight was removed.
 */
export function replaceWeightedNode(model: OnnxModel, target: WeightTarget, replacement: readonly NodeMessage[]): boolean {
  model.replaceNode(target.node, replacement);
  const name = target.weight;
  if (model.consumersOf(name).length > 0) return false;
  if ((model.graph.output ?? []).some((o) => o.name === name)) return false;
  const origin = model.tensorOrigin(name);
  if (origin?.kind === 'constant') model.removeNode(origin.node);
  else if (origin?.kind === 'initializer') model.removeInitializer(name);
  return origin !== undefined;
}
