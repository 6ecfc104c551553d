/**
 * `quantscope quantize MODEL.onnx --method rtn|gptq|smoothquant|llmint8|plan --bits 8|4|3
 * [--group N] [--format qdq|dynamic|static|nbits] [--alpha A] [--threshold T] [--weights rtn|gptq]
 * [--budget-bits B | --budget-error E] [--plan-only] [--recipe FILE] … [-o OUT.onnx] [--json]`
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { PROCESS_OUTPUT, runCliJob, type CliOutput } from './runCliJob';
import { OnnxModel } from '../core/onnx/OnnxModel';
import { findWeightTargets } from '../core/onnx/rewrite/weightTargets';
import { parsePlanRecipe, printPlanRecipe } from '../core/quant/planRecipe';
import { planQuantization } from '../worker/planQuantization';
import { quantizeModel } from '../worker/quantize';
import type { PlanBudgetParams, PlanParams, QuantizeCalibration, QuantizeFormat, QuantizeMethod, QuantizeParams, WeightRounding } from '../protocol/quantizeTypes';
import { parseArgs, positiveInt, UsageError } from './parseArgs';
import { renderQuantize } from './renderQuantize';

/** The help text of the command, for the CLI's usage. */
export const QUANTIZE_USAGE = `  quantize MODEL.onnx --method rtn|gptq|smoothquant|llmint8|plan [--bits 8|4|3] [--group N]
           [--format qdq|dynamic|static|nbits] [--asym] [--layers REGEX] [--samples N] [--batch N]
           [--seq N] [--calib FILE [--tokenizer FILE]] [--act-order] [--damp X] [--alpha A] [--threshold T]
           [--weights rtn|gptq] [--budget-bits B | --budget-error E] [--plan-only]
           [-o OUT.onnx] [--overwrite] [--json]
  quantize --recipe PLAN.qrecipe.yaml [-o OUT.onnx] [--json]
                                         Quantize MatMul/Gemm weights into a new model (default
                                         MODEL.q<bits>.onnx, never overwriting), check that ONNX
                                         Runtime loads it, and report the error on held-out inputs.
                                         smoothquant: W8A8 (static by default) after migrating
                                         activation outliers (--alpha, default 0.5); llmint8: input
                                         channels with absmax ≥ --threshold (6) stay float, the rest
                                         W8A8 (dynamic by default); plan: per-layer float/INT8/INT4
                                         under a budget; --plan-only prints the plan as an editable
                                         recipe, which --recipe applies
`;

const VALUED = new Set(['method', 'bits', 'group', 'format', 'layers', 'samples', 'batch', 'seq', 'calib', 'tokenizer', 'damp', 'alpha', 'threshold', 'weights', 'budget-bits', 'budget-error', 'recipe']);

/**
 * The calibration options shared by `quantize` and `prune` (`--samples`, `--batch`, `--seq`,
 * `--calib`, `--tokenizer`), or undefined when none was given.
 */
export function calibrationFromArgs(opt: (name: string) => string | undefined): QuantizeCalibration | undefined {
  const samples = positiveInt(opt('samples'), 'samples');
  const batch = positiveInt(opt('batch'), 'batch');
  const sequenceLength = positiveInt(opt('seq'), 'seq');
  const file = opt('calib');
  const tokenizer = opt('tokenizer');
  if (tokenizer !== undefined && file === undefined) throw new UsageError('--tokenizer goes with a .txt calibration file (--calib FILE.txt)');
  if (!(samples || batch || sequenceLength || file)) return undefined;
  return { ...(samples ? { samples } : {}), ...(batch ? { batch } : {}), ...(sequenceLength ? { sequenceLength } : {}), ...(file ? { file } : {}), ...(tokenizer ? { tokenizer } : {}) };
}

/** The `-o` option; an empty name is a usage error. */
export function outputFromArgs(opt: (name: string) => string | undefined): string | undefined {
  const output = opt('output');
  if (output === '') throw new UsageError('-o needs a file name');
  return output;
}

function choice<T extends string>(v: string | undefined, name: string, allowed: readonly T[], fallback?: T): T {
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`quantscope quantize needs --${name} ${allowed.join('|')}`);
    return fallback;
  }
  const found = allowed.find((a) => a === v);
  if (!found) throw new UsageError(`--${name} must be ${allowed.join(', ')}; got "${v}"`);
  return found;
}

/** Layer names (node or weight) of `path` that match `pattern`. */
export async function layersMatching(path: string, pattern: string): Promise<string[]> {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new UsageError(`--layers is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { targets } = findWeightTargets(await OnnxModel.load(path));
  const layers = targets.filter((t) => re.test(t.layer) || re.test(t.weight)).map((t) => t.layer);
  if (!layers.length) throw new UsageError(`--layers ${pattern} matches none of the ${targets.length} MatMul/Gemm weights`);
  return layers;
}

/** A number option, or undefined when absent; anything but a finite number ≥ `min` is a usage error. */
function numberOption(v: string | undefined, name: string, min: number, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number in [${min}, ${max === Infinity ? '∞' : max}], got "${v}"`);
  return n;
}

/** The plan budget from `--budget-bits` or `--budget-error`. */
function budgetFromArgs(opt: (name: string) => string | undefined): PlanBudgetParams | undefined {
  const bits = numberOption(opt('budget-bits'), 'budget-bits', 0.001, 32);
  const error = numberOption(opt('budget-error'), 'budget-error', 0);
  if (bits !== undefined && error !== undefined) throw new UsageError('give --budget-bits or --budget-error, not both');
  if (bits !== undefined) return { kind: 'bits', bitsPerWeight: bits };
  if (error !== undefined) return { kind: 'error', maxError: error };
  return undefined;
}

/** Parameters from a plan recipe: the model (relative to the recipe) and each layer's precision. */
async function paramsFromRecipe(file: string): Promise<Pick<QuantizeParams, 'path' | 'method' | 'plan' | 'weights' | 'budget'>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the recipe ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const recipe = parsePlanRecipe(text);
  return {
    path: resolve(dirname(file), recipe.model),
    method: 'plan',
    plan: Object.fromEntries(recipe.layers.map((l) => [l.layer, l.choice])),
    weights: recipe.weights,
    ...(recipe.budget ? { budget: recipe.budget } : {}),
  };
}

/** The job parameters from the command line (after the word `quantize`). */
export async function quantizeParamsFromArgs(argv: readonly string[]): Promise<QuantizeParams> {
  const args = parseArgs(argv, VALUED);
  const files = args.positional.filter((p) => p !== 'quantize');
  const opt = (name: string): string | undefined => args.options.get(name)?.[0];
  const recipeFile = opt('recipe');
  const fromRecipe = recipeFile === undefined ? undefined : await paramsFromRecipe(recipeFile);
  if (fromRecipe ? files.length > 1 : files.length !== 1) throw new UsageError('quantscope quantize: expected exactly one MODEL.onnx');
  const path = files[0] ?? fromRecipe?.path ?? '';
  const method = fromRecipe ? 'plan' : choice<QuantizeMethod>(opt('method'), 'method', ['rtn', 'gptq', 'smoothquant', 'llmint8', 'plan']);
  const defaultFormat: QuantizeFormat = method === 'smoothquant' ? 'static' : method === 'llmint8' ? 'dynamic' : 'qdq';
  const format = choice<QuantizeFormat>(opt('format'), 'format', ['qdq', 'dynamic', 'static', 'nbits'], defaultFormat);
  // W8A8 methods and formats are 8-bit, MatMulNBits is 4-bit, a plan chooses per layer.
  const impliedBits = method === 'plan' || method === 'smoothquant' || method === 'llmint8' || format === 'dynamic' || format === 'static' ? '8' : format === 'nbits' ? '4' : undefined;
  const bitsText = choice(opt('bits'), 'bits', ['8', '4', '3'], impliedBits);
  const bits = bitsText === '8' ? 8 : bitsText === '4' ? 4 : 3;
  const group = positiveInt(opt('group'), 'group');
  const alpha = numberOption(opt('alpha'), 'alpha', 0, 1);
  const threshold = numberOption(opt('threshold'), 'threshold', 1e-6);
  const weightsText = opt('weights');
  const weights = weightsText === undefined ? fromRecipe?.weights : choice<WeightRounding>(weightsText, 'weights', ['rtn', 'gptq']);
  const budget = budgetFromArgs(opt) ?? fromRecipe?.budget;
  if (method === 'plan' && !budget && !fromRecipe) throw new UsageError('--method plan needs --budget-bits B (average stored bits per weight) or --budget-error E (summed layer error), or --recipe FILE');
  const output = outputFromArgs(opt);
  const pattern = opt('layers');
  const dampText = opt('damp');
  const damping = dampText === undefined ? undefined : Number(dampText);
  if (damping !== undefined && !(damping >= 0)) throw new UsageError(`--damp must be a number ≥ 0, got "${dampText}"`);
  const calibration = calibrationFromArgs(opt);
  return {
    path, method, bits, format,
    ...(output ? { output } : {}),
    ...(args.flags.has('overwrite') ? { overwrite: true } : {}),
    ...(group ? { group } : {}),
    ...(args.flags.has('asym') ? { symmetric: false } : {}),
    ...(args.flags.has('act-order') ? { actOrder: true } : {}),
    ...(damping !== undefined ? { damping } : {}),
    ...(pattern ? { layers: await layersMatching(path, pattern) } : {}),
    ...(calibration ? { calibration } : {}),
    ...(alpha !== undefined ? { alpha } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    ...(weights ? { weights } : {}),
    ...(budget ? { budget } : {}),
    ...(fromRecipe?.plan ? { plan: fromRecipe.plan } : {}),
  };
}

/**
 * Runs `quantscope quantize` with the arguments after the command word and prints the report
 * (text, or JSON with `json`). Returns the exit code: 0 done, 1 refused or failed (an existing
 * output, a scheme the format cannot hold, an unreadable model), 130 interrupted. Usage mistakes
 * throw {@link UsageError} for the caller to print with the usage.
 */
export async function runQuantize(argv: readonly string[], json: boolean, output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  const params = await quantizeParamsFromArgs(argv);
  if (argv.includes('--plan-only')) {
    if (params.method !== 'plan' || !params.budget) throw new UsageError('--plan-only goes with --method plan and a budget');
    const planParams: PlanParams = { path: params.path, budget: params.budget, ...(params.calibration ? { calibration: params.calibration } : {}), ...(params.layers ? { layers: params.layers } : {}) };
    const weights = params.weights ?? 'rtn';
    return runCliJob('quantize', (ctx) => planQuantization(planParams, ctx), (r) => printPlanRecipe(r.plan, { model: basename(params.path), weights, layers: r.layers, budget: planParams.budget }), json, 'interrupted; no plan was made', output);
  }
  return runCliJob('quantize', (ctx) => quantizeModel(params, ctx), renderQuantize, json, undefined, output);
}
