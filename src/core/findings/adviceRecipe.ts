import { Document, isMap, isScalar } from 'yaml';
import type { Finding } from '../../protocol/findingTypes';
import type { PlanChoice } from '../../protocol/planTypes';
import { fixLabel } from './findingText';
import { planChoiceOf, PRECISION_ORDER } from './fixChoices';

/** One layer's precision in the recipe "Apply all recommended" builds, and why. */
export interface AdvisedLayer {
  readonly layer: string;
  readonly choice: PlanChoice;
  readonly reason: string;
}

/** The precision the default gives a layer no finding speaks about: INT8 per-channel costs little anywhere. */
const UNREMARKABLE: PlanChoice = 'int8-channel';

/**
 * A precision for every layer from its findings: the most precise of the fixes that a recipe can
 * state; INT8 per-channel where the only fixes are transforms of their own (SmoothQuant,
 * LLM.int8(), pruning) or where nothing was found.
 */
export function adviseLayers(layers: readonly string[], findings: readonly Finding[]): AdvisedLayer[] {
  return layers.map((layer) => {
    const own = findings.filter((f) => f.layer === layer && f.fix);
    let best: { choice: PlanChoice; finding: Finding } | undefined;
    for (const f of own) {
      const c = f.fix ? planChoiceOf(f.fix) : undefined;
      if (c && (!best || PRECISION_ORDER.indexOf(c) < PRECISION_ORDER.indexOf(best.choice))) best = { choice: c, finding: f };
    }
    const others = own.filter((f) => f.fix && !planChoiceOf(f.fix)).map((f) => `${f.kind}: ${f.fix ? fixLabel(f.fix) : ''} recommended (its quick fix runs it)`);
    if (best) return { layer, choice: best.choice, reason: [`${best.finding.kind}: ${best.finding.advice}`, ...others].join('; ') };
    return { layer, choice: UNREMARKABLE, reason: others.length ? others.join('; ') : 'no finding' };
  });
}

/**
 * The plan recipe (`*.qrecipe.yaml`) of advised layers, in the form Apply Recipe and
 * `quantscope quantize --recipe` read: GPTQ weights, one `layer: precision` line per layer with
 * its reason as a comment.
 */
export function printAdviceRecipe(model: string, advised: readonly AdvisedLayer[]): string {
  const layers = Object.create(null) as Record<string, string>;
  for (const a of advised) layers[a.layer] = a.choice;
  const doc = new Document({ model, method: 'plan', weights: 'gptq', layers });
  doc.commentBefore = [
    ` Recommended precisions for ${model}, one per layer, from its findings (quantscope advise).`,
    ` Edit a layer's precision (${PRECISION_ORDER.join(', ')}), then run "Quantscope: Apply Recipe".`,
  ].join('\n');
  const reasons = new Map(advised.map((a) => [a.layer, a.reason]));
  const root = doc.contents;
  if (isMap(root)) {
    for (const pair of root.items) {
      if (!isScalar(pair.key)) continue;
      if (pair.key.value === 'model' && isScalar(pair.value)) pair.value.comment = ' relative to this file';
      if (pair.key.value === 'layers' && isMap(pair.value)) {
        for (const lp of pair.value.items) if (isScalar(lp.key) && isScalar(lp.value)) lp.value.comment = ` ${reasons.get(String(lp.key.value)) ?? ''}`;
      }
    }
  }
  return doc.toString({ lineWidth: 0 });
}
