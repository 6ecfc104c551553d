/**
 * The prune job: the method table's pruning entry named by `params.method`, run by the transform
 * pipeline.
 */
import { PRUNE_METHODS } from '../../core/transform/methods';
import { methodNamed } from '../../core/transform/validateParams';
import type { PruneParams, PruneReport } from '../../protocol/pruneTypes';
import type { JobContext } from './JobContext';
import { runTransform } from './runTransform';

/** Prunes the selected MatMul/Gemm weights of `params.path` into a new model; see {@link runTransform}. */
export function pruneModel(params: PruneParams, ctx: JobContext): Promise<PruneReport> {
  return runTransform(methodNamed(PRUNE_METHODS, 'prune', params.method), params, ctx);
}
