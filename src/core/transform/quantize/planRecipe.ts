import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import {
  isPlanChoice, PLAN_CHOICES, type MixedPrecisionPlan, type PlanBudget, type PlanChoice, type PlanLayer, type QuantPlanChoice,
} from '../../quant/mixedPrecisionPlan';
import { PLAN } from './quantizeMethods';

/**
 * A mixed-precision plan as an editable recipe file (`*.qrecipe.yaml`):
 *
 * ```yaml
 * # Mixed-precision plan for ppocr_rec.onnx: 5.02 bits per weight (budget 6), summed error 3.1e-3.
 * # Edit a layer's precision (float, int8-channel, int4-g128, int4-channel), then run "Quantscope: Apply Recipe".
 * model: ppocr_rec.onnx # relative to this file
 * method: plan
 * weights: rtn # rtn or gptq
 * budget-bits: 6
 * layers:
 *   p2o.MatMul.0: int4-g128 # 120×480, errors int8 1.2e-4 · int4-g128 3.0e-3 · int4-ch 1.1e-2
 * ```
 *
 * The file is read with YAML's failsafe schema, so every scalar is a string: a layer named `1.0`
 * or `true` stays that name, and numbers are checked here with their line.
 */

/** How quantized layers get their weights. */
export type PlanWeightsMethod = 'rtn' | 'gptq';

/** A parsed plan recipe. */
export interface PlanRecipe {
  /** Model path as written, relative to the recipe file. */
  readonly model: string;
  /** RTN or GPTQ for the quantized layers. */
  readonly weights: PlanWeightsMethod;
  /** The budget the plan was made for, when the file states one (informational). */
  readonly budget?: PlanBudget;
  /** One entry per listed layer, in file order; `line` (1-based) is where it is written, for diagnostics. */
  readonly layers: readonly { readonly layer: string; readonly choice: PlanChoice; readonly line: number }[];
}

/** A recipe the parser rejects: `line` (1-based) and `column` locate the problem, and the message starts with `line N:`. */
export class RecipeError extends Error {
  /** 1-based line of the problem. */
  readonly line: number;
  /** 1-based column of the problem. */
  readonly column: number;
  /** The problem without the `line N:` prefix. */
  readonly problem: string;

  constructor(line: number, problem: string, column = 1) {
    super(`line ${line}: ${problem}`);
    this.name = 'RecipeError';
    this.line = line;
    this.column = column;
    this.problem = problem;
  }
}

/** What {@link printPlanRecipe} needs beside the plan. */
export interface PlanRecipeInfo {
  /** Model path relative to the recipe file. */
  readonly model: string;
  /** RTN or GPTQ for the quantized layers. */
  readonly weights: PlanWeightsMethod;
  /** The planner input, for each layer's shape and candidate errors in the comments. */
  readonly layers: readonly PlanLayer[];
  /** The budget the plan was made for. */
  readonly budget: PlanBudget;
  /**
   * How the reader applies the edited recipe, the words after "then" (with the full stop, if
   * any): each front end says its own way. Default: the editor's command.
   */
  readonly applyHint?: string;
}

/** The plan method's settings a recipe may state: its parameters in the method table, in table order. */
const SETTINGS = PLAN.params.filter((p) => !p.cliHidden);
const KEYS: readonly string[] = ['model', 'method', ...SETTINGS.map((p) => p.name), 'layers'];
type Key = string;
const WEIGHTS = SETTINGS.find((p) => p.field === 'weights')?.values ?? [];
const SHORT: Readonly<Record<QuantPlanChoice, string>> = { 'int8-channel': 'int8', 'int4-g128': 'int4-g128', 'int4-channel': 'int4-ch' };
const CHOICE_LIST = PLAN_CHOICES.join(', ');

/**
 * Prints `plan` as a recipe: a header comment with the totals and how to edit, the settings, and
 * one `layer: precision` line per layer with its shape (out×in) and candidate errors as a comment.
 * YAML quotes layer names where it must; {@link parsePlanRecipe} reads the result back unchanged.
 */
export function printPlanRecipe(plan: MixedPrecisionPlan, info: PlanRecipeInfo): string {
  const byName = new Map(info.layers.map((l) => [l.layer, l]));
  const budgetEntry: Record<string, number> =
    info.budget.kind === 'bits' ? { 'budget-bits': info.budget.bitsPerWeight } : { 'budget-error': info.budget.maxError };
  const planned = new Map(plan.layers.map((l) => [l.layer, l]));
  // A null-prototype record keeps a layer named `__proto__` an ordinary key.
  const layers = Object.create(null) as Record<string, string>;
  for (const l of plan.layers) layers[l.layer] = l.choice;
  const doc = new Document({ model: info.model, method: 'plan', weights: info.weights, ...budgetEntry, layers });

  const budgetText = info.budget.kind === 'bits' ? `budget ${info.budget.bitsPerWeight}` : `error budget ${fmt(info.budget.maxError)}`;
  const header = [
    `Mixed-precision plan for ${info.model}: ${plan.bitsPerWeight.toFixed(2)} bits per weight (${budgetText}), summed error ${fmt(plan.totalError)}.`,
    `Edit a layer's precision (${CHOICE_LIST}), then ${info.applyHint ?? 'run "Quantscope: Apply Recipe".'}`,
  ];
  if (!plan.feasible) header.push(plan.note);
  doc.commentBefore = header.map((h) => ` ${h}`).join('\n');

  const root = doc.contents;
  if (!isMap(root)) throw new Error('internal: recipe document is not a mapping');
  for (const pair of root.items) {
    if (!isScalar(pair.key)) continue;
    if (pair.key.value === 'model' && isScalar(pair.value)) pair.value.comment = ' relative to this file';
    if (pair.key.value === 'weights' && isScalar(pair.value)) pair.value.comment = ' rtn or gptq';
    if (pair.key.value === 'layers' && isMap(pair.value)) {
      for (const lp of pair.value.items) {
        if (!isScalar(lp.key) || !isScalar(lp.value)) continue;
        const name = String(lp.key.value);
        const l = planned.get(name);
        if (l) lp.value.comment = ` ${layerComment(l.outFeatures, l.inFeatures, byName.get(name))}`;
      }
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** `120×480, errors int8 1.2e-4 · int4-g128 3.0e-3 · int4-ch 1.1e-2` (out×in, as W is stored). */
function layerComment(out: number, inF: number, input: PlanLayer | undefined): string {
  const errors = (Object.keys(SHORT) as QuantPlanChoice[])
    .filter((c) => input?.errors[c] !== undefined)
    .map((c) => `${SHORT[c]} ${fmt(input?.errors[c] ?? 0)}`);
  return errors.length > 0 ? `${out}×${inF}, errors ${errors.join(' · ')}` : `${out}×${inF}`;
}

/**
 * Parses a plan recipe, strictly: unknown keys, a missing `model` or `layers`, a `method` other
 * than `plan`, unknown precisions, duplicate layers and YAML syntax errors all throw a
 * {@link RecipeError} naming the line and, where it helps, the valid values.
 */
export function parsePlanRecipe(text: string): PlanRecipe {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter, uniqueKeys: false, prettyErrors: false });
  const lastLine = Math.max(1, text.replace(/\n$/, '').split('\n').length);
  const at = (offset: number): { line: number; col: number } => {
    const p = lineCounter.linePos(offset);
    // Errors at end of input (an unclosed quote) point past the last line; show the last line instead.
    return p.line > lastLine ? { line: lastLine, col: 1 } : p;
  };
  const lineOf = (node: Node | null | undefined, fallback = 1): number => (node?.range ? at(node.range[0]).line : fallback);

  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const p = at(syntax.pos[0]);
    throw new RecipeError(p.line, `YAML syntax error: ${syntax.message.split('\n')[0]}`, p.col);
  }
  const root = doc.contents;
  if (root === null) throw new RecipeError(1, `the recipe is empty; it needs model, method: plan and layers`);
  if (!isMap(root)) throw new RecipeError(lineOf(root), `a recipe must be a mapping of keys (${KEYS.join(', ')}), not a ${isSeq(root) ? 'list' : 'single value'}`);

  const found = new Map<Key, Pair<unknown, unknown>>();
  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const line = lineOf(keyNode, lineOf(pair.value));
    if (!isScalar(keyNode) || typeof keyNode.value !== 'string') throw new RecipeError(line, `keys must be plain names (${KEYS.join(', ')})`);
    const key = keyNode.value;
    if (!KEYS.includes(key)) throw new RecipeError(line, `unknown key \`${key}\`; valid keys: ${KEYS.join(', ')}`);
    const first = found.get(key);
    if (first) throw new RecipeError(line, `duplicate key \`${key}\` (first on line ${lineOf(first.key as Node)})`);
    found.set(key, pair);
  }

  /** The string value of a key that must be a plain scalar, with the line to blame. */
  const scalarOf = (key: Key): { value: string; line: number } | undefined => {
    const pair = found.get(key);
    if (!pair) return undefined;
    const node = pair.value as Node | null;
    const line = lineOf(node, lineOf(pair.key as Node));
    if (!isScalar(node) || typeof node.value !== 'string') throw new RecipeError(line, `\`${key}\` must be a single value`);
    return { value: node.value.trim(), line };
  };

  const model = scalarOf('model');
  if (!model) throw new RecipeError(1, 'missing `model` (the model file, relative to this recipe)');
  if (model.value === '') throw new RecipeError(model.line, '`model` is empty; give the model file, relative to this recipe');

  const method = scalarOf('method');
  if (!method) throw new RecipeError(1, 'missing `method: plan`');
  if (method.value !== 'plan') throw new RecipeError(method.line, `method must be \`plan\` in a mixed-precision plan recipe, got \`${method.value}\``);

  const weightsEntry = scalarOf('weights');
  let weights: PlanWeightsMethod = 'rtn';
  if (weightsEntry) {
    const w = weightsEntry.value;
    if (!WEIGHTS.includes(w)) throw new RecipeError(weightsEntry.line, `unknown weights method \`${w}\`; valid: ${WEIGHTS.join(', ')}`);
    weights = w as PlanWeightsMethod;
  }

  const bits = scalarOf('budget-bits'), err = scalarOf('budget-error');
  let budget: PlanBudget | undefined;
  if (bits && err) throw new RecipeError(Math.max(bits.line, err.line), 'give either `budget-bits` or `budget-error`, not both');
  if (bits) {
    const b = parseNumber(bits.value);
    if (b === null || b <= 0) throw new RecipeError(bits.line, `\`budget-bits\` must be a positive number of bits per weight, got \`${bits.value}\``);
    budget = { kind: 'bits', bitsPerWeight: b };
  } else if (err) {
    const e = parseNumber(err.value);
    if (e === null || e < 0) throw new RecipeError(err.line, `\`budget-error\` must be a number ≥ 0, got \`${err.value}\``);
    budget = { kind: 'error', maxError: e };
  }

  const layersPair = found.get('layers');
  if (!layersPair) throw new RecipeError(1, 'missing `layers` (a mapping of layer name to precision)');
  const layersNode = layersPair.value as Node | null;
  const layersLine = lineOf(layersNode, lineOf(layersPair.key as Node));
  if (!isMap(layersNode)) {
    // `layers:` with nothing under it reads as an empty scalar; a list is the usual other mistake.
    const hint = isSeq(layersNode) ? 'not a list' : 'not a single value';
    throw new RecipeError(layersLine, `\`layers\` must be a mapping of layer name to precision, like \`  /blocks.0/q/MatMul: int4-g128\`, ${hint}`);
  }
  return { model: model.value, weights, budget, layers: parseLayers(layersNode, lineOf) };
}

function parseLayers(map: YAMLMap, lineOf: (node: Node | null | undefined, fallback?: number) => number): PlanRecipe['layers'] {
  const seen = new Map<string, number>();
  const out: { layer: string; choice: PlanChoice; line: number }[] = [];
  for (const pair of map.items) {
    const keyNode = pair.key as Node | null, valueNode = pair.value as Node | null;
    const line = lineOf(keyNode, lineOf(valueNode));
    if (!isScalar(keyNode) || typeof keyNode.value !== 'string') throw new RecipeError(line, 'a layer name must be a plain string');
    const layer = keyNode.value;
    if (layer === '') throw new RecipeError(line, 'empty layer name');
    const first = seen.get(layer);
    if (first !== undefined) throw new RecipeError(line, `duplicate layer \`${layer}\` (first on line ${first})`);
    seen.set(layer, line);
    const valueLine = lineOf(valueNode, line);
    if (!isScalar(valueNode) || typeof valueNode.value !== 'string' || valueNode.value.trim() === '') {
      throw new RecipeError(valueLine, `layer \`${layer}\` needs one precision: ${CHOICE_LIST}`);
    }
    const choice = valueNode.value.trim();
    if (!isPlanChoice(choice)) {
      const close = PLAN_CHOICES.filter((c) => c.startsWith(choice.toLowerCase()) || c === choice.toLowerCase());
      const hint = close.length === 1 ? ` (did you mean \`${close[0]}\`?)` : '';
      throw new RecipeError(valueLine, `unknown precision \`${choice}\` for layer \`${layer}\`${hint}; valid: ${CHOICE_LIST}`);
    }
    out.push({ layer, choice, line });
  }
  return out;
}

/** A plain decimal number (`6`, `5.5`, `3e-3`); hex, `.inf` and the empty string are not budgets. */
function parseNumber(s: string): number | null {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  const x = Number(s);
  return Number.isFinite(x) ? x : null;
}

/** Two significant digits: `3.1e-3`; 0 stays `0`. */
function fmt(x: number): string {
  return x === 0 ? '0' : x.toExponential(1);
}
