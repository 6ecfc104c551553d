/**
 * `quantscope quantize MODEL.onnx --method NAME [its options] [--plan-only] [--recipe FILE] …
 * [-o OUT.onnx] [--json]`, with the methods and their options from the method table.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { PROCESS_OUTPUT, runCliJob, type CliOutput } from './runCliJob';
import { OnnxModel } from '../core/onnx/OnnxModel';
import { findWeightTargets } from '../core/onnx/rewrite/weightTargets';
import { parsePlanRecipe, printPlanRecipe } from '../core/transform/quantize/planRecipe';
import { planQuantization } from '../worker/jobs/planQuantization';
import { quantizeModel } from '../worker/jobs/quantize';
import { METHODS } from '../core/transform/methods';
import { defaultOf } from '../core/transform/quantize/quantizeMethods';
import { methodsOf } from '../core/transform/validateParams';
import type { MixedPlanParams, PlanParams, QuantizeCalibration, QuantizeParams, WeightRounding } from '../protocol/quantizeTypes';
import { methodHelp, methodParamsFromArgs, valuedOptions } from './methodOptions';
import { parseArgs, positiveInt, UsageError } from './parseArgs';
import { renderQuantize } from './renderQuantize';

/** The help text of the command, for the CLI's usage: the methods and their options come from the method table. */
export const QUANTIZE_USAGE = `  quantize MODEL.onnx --method ${methodsOf(METHODS, 'quantize').map((m) => m.name).join('|')} [method options]
           [--layers REGEX] [--samples N] [--batch N] [--seq N] [--calib FILE] [--plan-only]
           [-o OUT.onnx] [--overwrite] [--json]
  quantize --recipe PLAN.qrecipe.yaml [-o OUT.onnx] [--json]
                                         Quantize MatMul/Gemm weights into a new model (default
                                         MODEL.q<bits>.onnx, never overwriting), check that ONNX
                                         Runtime loads it, and report the error on held-out inputs.
                                         --plan-only prints a plan as an editable recipe, which
                                         --recipe applies
${methodHelp(METHODS, 'quantize')}`;

/** Options every transform command takes besides its methods'. */
export const TRANSFORM_VALUED = ['method', 'layers', 'samples', 'batch', 'seq', 'calib'];

const VALUED = new Set([...TRANSFORM_VALUED, ...valuedOptions(METHODS, 'quantize'), 'recipe']);

/**
 * The calibration options shared by `quantize` and `prune` (`--samples`, `--batch`, `--seq`,
 * `--calib`), or undefined when none was given.
 */
export function calibrationFromArgs(opt: (name: string) => string | undefined): QuantizeCalibration | undefined {
  const samples = positiveInt(opt('samples'), 'samples');
  const batch = positiveInt(opt('batch'), 'batch');
  const sequenceLength = positiveInt(opt('seq'), 'seq');
  const file = opt('calib');
  if (!(samples || batch || sequenceLength || file)) return undefined;
  return dropUndefined({ samples, batch, sequenceLength, file });
}

/** The `-o` option; an empty name is a usage error. */
export function outputFromArgs(opt: (name: string) => string | undefined): string | undefined {
  const output = opt('output');
  if (output === '') throw new UsageError('-o needs a file name');
  return output;
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

/** Parameters from a plan recipe: the model (relative to the recipe) and each layer's precision. */
async function paramsFromRecipe(file: string): Promise<Pick<MixedPlanParams, 'path' | 'plan' | 'weights' | 'budget'>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the recipe ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const recipe = parsePlanRecipe(text);
  return {
    path: resolve(dirname(file), recipe.model),
    plan: Object.fromEntries(recipe.layers.map((l) => [l.layer, l.choice])),
    weights: recipe.weights,
    budget: recipe.budget,
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
  const output = outputFromArgs(opt);
  const pattern = opt('layers');
  const calibration = calibrationFromArgs(opt);
  const base = {
    path, output, calibration,
    overwrite: args.flags.has('overwrite') || undefined,
    layers: pattern ? await layersMatching(path, pattern) : undefined,
    // A recipe's fields come first; the command line's options win.
    ...fromRecipe,
  };
  return methodParamsFromArgs<QuantizeParams>(METHODS, 'quantize', args, dropUndefined(base), fromRecipe ? 'plan' : undefined);
}

/** `fields` without the keys whose value is undefined, so parameters carry only what was given. */
export function dropUndefined<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
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
    const planParams: PlanParams = dropUndefined({ path: params.path, budget: params.budget, calibration: params.calibration, layers: params.layers });
    const weights = params.weights ?? defaultOf<WeightRounding>(METHODS.plan.params, 'weights');
    return runCliJob('quantize', (ctx) => planQuantization(planParams, ctx), (r) => printPlanRecipe(r.plan, { model: basename(params.path), weights, layers: r.layers, budget: planParams.budget }), json, 'interrupted; no plan was made', output);
  }
  return runCliJob('quantize', (ctx) => quantizeModel(params, ctx), renderQuantize, json, undefined, output);
}
