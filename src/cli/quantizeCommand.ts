/**
 * `quantscope quantize MODEL.onnx --method rtn|gptq|smoothquant|llmint8|plan …`: quantizes the
 * MatMul/Gemm weights of an ONNX model into a new model, or prints or applies a plan recipe.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { OnnxModel } from '../core/onnx/OnnxModel';
import { findWeightTargets } from '../core/onnx/rewrite/weightTargets';
import { parsePlanRecipe, printPlanRecipe, RecipeError } from '../core/transform/quantize/planRecipe';
import { planQuantization } from '../worker/jobs/planQuantization';
import { quantizeModel } from '../worker/jobs/quantize';
import { QUIET_JOB } from '../worker/jobs/JobContext';
import { resolveModelInput } from '../worker/jobs/modelInput';
import { METHODS } from '../core/transform/methods';
import { defaultOf } from '../core/transform/quantize/quantizeMethods';
import { methodsOf } from '../core/transform/validateParams';
import type { MixedPlanParams, PlanParams, QuantizeCalibration, QuantizeParams, WeightRounding } from '../protocol/quantizeTypes';
import { methodOptionGroups, methodParamsFromArgs, type CliMethodTable } from './methodOptions';
import { checkFile, checkGraphInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec, type OptionGroup, type OptionSpec } from './CommandSpec';
import { CALIBRATION_OPTIONS, LAYERS_OPTION, OUTPUT_OPTION, OVERWRITE_OPTION } from './commonOptions';
import { parseArgs, UsageError, type ParsedArgs } from './parseArgs';
import { runGgufQuantize } from './quantizeGguf';
import { renderQuantize } from './renderQuantize';
import { runCommand } from './runCommand';
import { runQuantizeGptq } from './quantizeGptq';
import { parseQuantizeTarget, TO_OPTION } from './quantizeTarget';
import { PROCESS_OUTPUT, runCliJob, type CliOutput } from './runCliJob';
import { tokenizerBeside } from '../core/calibration/tokenizerBeside';

/** The options every quantization method takes; the methods' own come from the method table. */
function generalOptions(table: CliMethodTable): readonly OptionSpec[] {
  return [
    { name: 'method', kind: 'enum', values: methodsOf(table, 'quantize').map((m) => m.name), help: 'The quantization method (required unless --recipe)' },
    LAYERS_OPTION,
    TO_OPTION,
    { name: 'calibration', kind: 'string', placeholder: 'FILE', help: 'With --to gguf:TYPE: calibrate an importance matrix (imatrix) on FILE (.txt with the tokenizer.json beside the model, .npy/.npz) and choose the k-quant and 32-value blocks (all but Q8_0 and Q2_K) that minimize the importance-weighted error; the same as --calib there' },
    OUTPUT_OPTION,
    OVERWRITE_OPTION,
    { name: 'recipe', kind: 'string', placeholder: 'FILE', help: 'Apply a plan recipe (*.qrecipe.yaml); its model is relative to the recipe file unless MODEL.onnx is given' },
    { name: 'plan-only', kind: 'flag', help: 'With --method plan: print the plan as an editable recipe instead of writing a model' },
    JSON_OPTION,
  ];
}

/** The option groups of the methods in `table`, then calibration's. */
function methodGroups(table: CliMethodTable): readonly OptionGroup[] {
  return [
    ...methodOptionGroups(table, 'quantize'),
    { title: 'Calibration (gptq, smoothquant, llmint8, plan; and the held-out check of every method)', options: CALIBRATION_OPTIONS },
  ];
}

/** The method options of `quantize`, generated from the method table. */
export const QUANTIZE_METHOD_OPTIONS: readonly OptionGroup[] = methodGroups(METHODS);

/** What `quantize` takes. */
export const QUANTIZE_SPEC: CommandSpec = quantizeSpec(METHODS);

/** The `quantize` command as a method table makes it: its methods and their options. */
export function quantizeSpec(table: CliMethodTable): CommandSpec {
  return {
  name: 'quantize',
  summary: 'Quantize MatMul/Gemm weights of an ONNX model or a language-model checkpoint into a new model and report the error',
  usage: ['quantize MODEL --to gguf:TYPE|safetensors-gptq [-o OUT] [--json]', `quantize MODEL.onnx --method ${methodsOf(table, 'quantize').map((m) => m.name).join('|')} [options]`, 'quantize [MODEL.onnx] --recipe PLAN.qrecipe.yaml [-o OUT.onnx] [--json]'],
  description: 'Quantize the MatMul/Gemm weights of an ONNX model into a new model (default MODEL.q<bits>.onnx beside it, never overwriting; for a language-model checkpoint model.q<bits>.onnx in its folder), check that ONNX Runtime loads it, and report the error on held-out inputs. smoothquant is W8A8 after migrating activation outliers into the weights; llmint8 keeps input channels with outliers in float and the rest W8A8; plan chooses float, INT8 or INT4 per layer under a budget, and --plan-only prints that plan as a recipe that --recipe applies.',
  arguments: [{ name: 'MODEL.onnx', help: 'The ONNX model, or a language-model checkpoint (a Hugging Face folder, its model.safetensors or index, a .gguf), built into a graph that is cached beside it', count: 'optional' }],
  options: generalOptions(table),
  groups: methodGroups(table),
  examples: [
    'quantize model.onnx --method rtn --bits 4 --group 128 --format nbits',
    'quantize model.onnx --method gptq --bits 4 --group 128 --calib inputs.npz',
    'quantize model.onnx --method plan --budget-bits 5 --plan-only > model.qrecipe.yaml',
    'quantize model.onnx --recipe model.qrecipe.yaml -o model.mixed.onnx',
    'quantize ./Llama-3.2-1B --to safetensors-gptq --bits 4 --group 128 --calib wiki.txt --tokenizer ./Llama-3.2-1B/tokenizer.json',
    'quantize model-f16.gguf --to gguf:q4_k_m',
    'quantize ./Llama-3.2-1B --to gguf:q8_0',
    'quantize ./Llama-3.2-1B --to gguf:q4_k_m --calibration wiki.txt',
  ],
  };
}

/** Drops the command word when a caller passes the whole command line after `quantscope`. */
export function withoutCommandWord(argv: readonly string[], word: string): readonly string[] {
  return argv[0] === word ? argv.slice(1) : argv;
}

/**
 * The calibration options shared by `quantize` and `prune` (`--samples`, `--batch`, `--seq`,
 * `--calib` or the `calibFile` given instead, `--tokenizer`), or undefined when none was given. A `.txt` calibration file without
 * `--tokenizer` is read with the `tokenizer.json` beside the model (`modelPath`), when there is one.
 */
export async function calibrationFromArgs(args: ParsedArgs, modelPath: string, calibFile?: string): Promise<QuantizeCalibration | undefined> {
  const samples = args.number('samples');
  const batch = args.number('batch');
  const sequenceLength = args.number('seq');
  const file = calibFile ?? args.string('calib');
  const given = args.string('tokenizer');
  if (file !== undefined) await checkFile(file, { folders: true });
  const tokenizer = given ?? (file !== undefined && /\.txt$/i.test(file) ? await tokenizerBeside(modelPath) : undefined);
  if (given !== undefined) {
    if (file === undefined) throw new UsageError('--tokenizer goes with a .txt calibration file (--calib FILE.txt)');
    await checkFile(given);
  }
  if (samples === undefined && batch === undefined && sequenceLength === undefined && file === undefined) return undefined;
  return dropUndefined({ samples, batch, sequenceLength, file, tokenizer });
}

/** `fields` without the keys whose value is undefined, so parameters carry only what was given. */
export function dropUndefined<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}

/** Layer names (node or weight) of `path` that match `pattern`. */
export async function layersMatching(path: string, pattern: string): Promise<string[]> {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new UsageError(`--layers is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { targets } = findWeightTargets(await OnnxModel.load((await resolveModelInput(path, QUIET_JOB)).onnx));
  const layers = targets.filter((t) => re.test(t.layer) || re.test(t.weight)).map((t) => t.layer);
  if (!layers.length) throw new UsageError(`--layers ${pattern} matches none of the ${targets.length} MatMul/Gemm weights`);
  return layers;
}

/** Parameters from a plan recipe: the model (relative to the recipe) and each layer's precision. */
async function paramsFromRecipe(file: string): Promise<Pick<MixedPlanParams, 'path' | 'plan' | 'weights' | 'budget'>> {
  await checkFile(file);
  const text = await readFile(file, 'utf8');
  let recipe;
  try {
    recipe = parsePlanRecipe(text);
  } catch (e) {
    if (e instanceof RecipeError) throw new RecipeError(e.line, `${file}: ${e.problem}`, e.column);
    throw e;
  }
  return {
    path: resolve(dirname(file), recipe.model),
    plan: Object.fromEntries(recipe.layers.map((l) => [l.layer, l.choice])),
    weights: recipe.weights,
    budget: recipe.budget,
  };
}

/** The job parameters from a parsed `quantize` command line; checks the model file first. */
export async function quantizeParams(args: ParsedArgs): Promise<QuantizeParams> {
  const recipeFile = args.string('recipe');
  const fromRecipe = recipeFile === undefined ? undefined : await paramsFromRecipe(recipeFile);
  const given = args.positional[0];
  if (given === undefined && !fromRecipe) throw new UsageError('quantize needs MODEL.onnx (or --recipe FILE)', 'quantize');
  const path = given ?? fromRecipe?.path ?? '';
  const method = fromRecipe ? 'plan' : args.string('method');
  if (method === undefined) throw new UsageError(`quantize needs --method ${methodsOf(METHODS, 'quantize').map((m) => m.name).join('|')}`, 'quantize');
  await checkGraphInput(path, 'quantize');
  const pattern = args.string('layers');
  const base = dropUndefined({
    path,
    output: args.string('output'),
    overwrite: args.has('overwrite') || undefined,
    layers: pattern ? await layersMatching(path, pattern) : undefined,
    calibration: await calibrationFromArgs(args, path),
    // A recipe's settings come first; the command line's options win.
    ...fromRecipe,
  });
  const params = methodParamsFromArgs<QuantizeParams>(METHODS, 'quantize', args, base, method);
  if (args.has('plan-only') && (params.method !== 'plan' || !params.budget)) throw new UsageError('--plan-only goes with --method plan and a budget', 'quantize');
  return params;
}

/** The job parameters from the command line after the word `quantize`. */
export async function quantizeParamsFromArgs(argv: readonly string[]): Promise<QuantizeParams> {
  return quantizeParams(parseArgs(QUANTIZE_SPEC, withoutCommandWord(argv, 'quantize')));
}

/** `quantscope quantize`: 0 done, 1 refused or failed (an existing output, a scheme the format cannot hold, an unreadable model), 2 usage, 130 interrupted. */
export const QUANTIZE_COMMAND: CliCommand = {
  spec: QUANTIZE_SPEC,
  run: async (args, output) => {
    const to = args.string('to');
    const target = to === undefined ? undefined : parseQuantizeTarget(to);
    if (target?.kind === 'safetensors-gptq') return runQuantizeGptq(args, await calibrationFromArgs(args, args.positional[0] ?? ''), output);
    if (target?.kind === 'gguf') {
      const file = args.string('calibration');
      if (file !== undefined && args.has('calib')) throw new UsageError('give the calibration file once: --calibration or --calib', 'quantize');
      return runGgufQuantize(args, target.gguf, await calibrationFromArgs(args, args.positional[0] ?? '', file), output);
    }
    if (args.has('calibration')) throw new UsageError('--calibration goes with --to gguf:TYPE; ONNX and GPTQ outputs take --calib', 'quantize');
    const params = await quantizeParams(args);
    if (args.has('plan-only') && params.budget) {
      const planParams: PlanParams = dropUndefined({ path: params.path, budget: params.budget, calibration: params.calibration, layers: params.layers });
      const weights = params.weights ?? defaultOf<WeightRounding>(METHODS.plan.params, 'weights');
      const model = /^[\w./:@%+,=-]+$/.test(params.path) ? params.path : `'${params.path.replace(/'/g, `'\\''`)}'`;
      const applyHint = `run: quantscope quantize ${model} --recipe THIS_FILE`;
      return runCliJob('quantize', (ctx) => planQuantization(planParams, ctx), (r) => printPlanRecipe(r.plan, { model: basename(params.path), weights, layers: r.layers, budget: planParams.budget, applyHint }), args.json, 'interrupted; no plan was made', output);
    }
    return runCliJob('quantize', (ctx) => quantizeModel(params, ctx), renderQuantize, args.json, undefined, output);
  },
};

/**
 * Runs `quantscope quantize` with the arguments after the command word and prints the report
 * (text, or JSON with `json` or `--json`); errors are reported too. Returns the exit code.
 */
export function runQuantize(argv: readonly string[], json: boolean, output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  return runCommand(QUANTIZE_COMMAND, json && !argv.includes('--json') ? [...argv, '--json'] : argv, output);
}
