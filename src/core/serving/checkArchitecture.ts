import type { FormatError } from '../FormatError';
import type { ModelArchitecture } from '../../protocol/servingTypes';

/**
 * Checks the relations the planner relies on, whatever the source: KV heads share the query
 * heads evenly, experts per token within the experts, a window no longer than it can be useful.
 */
export function checkArchitecture(a: ModelArchitecture, fail: (message: string) => FormatError): ModelArchitecture {
  if (a.numKvHeads > a.numHeads || a.numHeads % a.numKvHeads !== 0) {
    throw fail(`${a.numHeads} attention heads cannot be shared evenly by ${a.numKvHeads} key/value heads`);
  }
  if (a.slidingLayers > a.numLayers) throw fail(`${a.slidingLayers} sliding-window layers, but the model has ${a.numLayers} layers`);
  if (a.moe && a.moe.expertsPerToken > a.moe.experts) throw fail(`${a.moe.expertsPerToken} experts per token, but there are only ${a.moe.experts} experts`);
  return a;
}
