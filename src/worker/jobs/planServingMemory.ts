import { analyzeExperts, openModel, planMemory } from '../../core/serving';
import type { MemoryPlan, PlanMemoryParams } from '../../protocol/servingTypes';
import type { JobContext } from './JobContext';

/**
 * The serving-memory plan of a model, a model folder or a bare `config.json`: its architecture
 * is read (headers only) and priced under the given settings. With `experts`, the routed experts
 * of a model with weights are also compared, which reads their values.
 */
export async function planServingMemory(params: PlanMemoryParams, ctx: JobContext): Promise<MemoryPlan> {
  ctx.progress('reading the architecture');
  const { architecture, checkpoint } = await openModel(params.path);
  const plan = planMemory(architecture, params.settings ?? {});
  if (!params.experts) return plan;
  if (!checkpoint) return { ...plan, warnings: [...plan.warnings, 'the experts need the weights to compare; only a config was given'] };
  return { ...plan, experts: await analyzeExperts(checkpoint, ctx) };
}
