import type { OnnxModel } from '../onnx/OnnxModel';
import { findWeightTargets, type SkippedRewrite, type WeightTarget } from '../onnx/rewrite';

/** The targets the parameters select; names may be layer (node) names or weight names. */
export function selectTargets(model: OnnxModel, layers: readonly string[] | undefined): { targets: WeightTarget[]; skipped: SkippedRewrite[] } {
  const found = findWeightTargets(model);
  if (!layers) return { targets: [...found.targets], skipped: [...found.skipped] };
  const wanted = new Set(layers);
  const targets = found.targets.filter((t) => wanted.has(t.layer) || wanted.has(t.weight));
  const known = new Set(found.targets.flatMap((t) => [t.layer, t.weight]));
  const unknown = layers.filter((l) => !known.has(l));
  if (unknown.length) throw new RangeError(`no MatMul/Gemm weight named ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`);
  return { targets, skipped: found.skipped.filter((s) => wanted.has(s.layer)) };
}
