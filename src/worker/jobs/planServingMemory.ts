import { openArchitecture, planMemory } from '../../core/serving';
import type { MemoryPlan, PlanMemoryParams } from '../../protocol/servingTypes';
import type { JobContext } from './JobContext';

/**
 * The serving-memory plan of a model, a model folder or a bare `config.json`: its architecture
 * is read (headers only, never weights' values) and priced under the given settings.
 */
export async function planServingMemory(params: PlanMemoryParams, ctx: JobContext): Promise<MemoryPlan> {
  ctx.progress('reading the architecture');
  return planMemory(await openArchitecture(params.path), params.settings ?? {});
}
