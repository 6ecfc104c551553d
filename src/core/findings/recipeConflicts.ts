import type { Finding } from '../../protocol/findingTypes';
import type { PlanChoice } from '../../protocol/planTypes';
import { fixLabel } from './findingText';
import { planChoiceOf, PRECISION_ORDER } from './fixChoices';

/** A recipe line that chooses against a finding. */
export interface RecipeConflict {
  /** 1-based line of the layer in the recipe. */
  readonly line: number;
  readonly layer: string;
  readonly chosen: PlanChoice;
  /** The precision the finding recommends. */
  readonly recommended: PlanChoice;
  readonly finding: Finding;
  readonly message: string;
}

/**
 * The recipe lines whose precision is below what a finding on that layer recommends (INT4 on one
 * of the most sensitive layers, INT4 per-channel where the weight needs groups). Layers are matched
 * by the layer's name or its weight's.
 */
export function recipeConflicts(lines: readonly { readonly layer: string; readonly choice: PlanChoice; readonly line: number }[], findings: readonly Finding[]): RecipeConflict[] {
  const out: RecipeConflict[] = [];
  for (const l of lines) {
    for (const f of findings) {
      if (f.layer !== l.layer && f.tensor !== l.layer) continue;
      const recommended = f.fix ? planChoiceOf(f.fix) : undefined;
      if (!recommended || PRECISION_ORDER.indexOf(l.choice) <= PRECISION_ORDER.indexOf(recommended)) continue;
      out.push({ line: l.line, layer: l.layer, chosen: l.choice, recommended, finding: f, message: `${l.choice} goes against the evidence: ${f.message}. Recommended: ${f.fix ? fixLabel(f.fix) : recommended}` });
    }
  }
  return out;
}
