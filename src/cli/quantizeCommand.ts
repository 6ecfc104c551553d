/**
 * `quantscope quantize MODEL.onnx --method rtn|gptq|smoothquant|llmint8|plan …`: quantizes the
 * MatMul/Gemm weights of an ONNX model into a new model, or prints or applies a plan recipe.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { OnnxModel } from '../core/onnx/OnnxModel';
import { findWeightTargets } from '../core/onnx/rewrite/weightTargets';
import { parsePlanRecipe, printPlanRecipe, RecipeError } from '../core/quant/planRecipe';
import { planQuantization } from '../worker/planQuantization';
import { quantizeModel } from '../worker/quantize';
import type { PlanBudgetParams, PlanParams, QuantizeCalibration, QuantizeFormat, QuantizeMethod, QuantizeParams, WeightRounding } from '../protocol/quantizeTypes';
import { checkFile, checkInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec, type OptionGroup, type OptionSpec } from './CommandSpec';
import { CALIBRATION_OPTIONS, LAYERS_OPTION, OUTPUT_OPTION, OVERWRITE_OPTION } from './commonOptions';
import { parseArgs, UsageError, type ParsedArgs } from './parseArgs';
import { renderQuantize } from './renderQuantize';
import { runCommand } from './runCommand';
import { PROCESS_OUTPUT, runCliJob, type CliOutput } from './runCliJob';

const METHODS: readonly QuantizeMethod[] = ['rtn', 'gptq', 'smoothquant', 'llmint8', 'plan'];
const FORMATS: readonly QuantizeFormat[] = ['qdq', 'dynamic', 'static', 'nbits'];
const WEIGHTS: readonly WeightRounding[] = ['rtn', 'gptq'];

/** The options every quantization method takes. */
const GENERAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'method', kind: 'enum', values: METHODS, help: 'The quantization method (required unless --recipe)' },
  { name: 'bits', kind: 'enum', values: ['8', '4', '3'], help: 'Weight bits; needed for rtn and gptq in the qdq format (implied: 8 for the W8A8 formats and methods, 4 for nbits)' },
  { name: 'group', kind: 'int', min: 1, help: 'Group size of grouped weights, such as 128 for INT4 (default: one scale per output channel, which MatMulNBits holds only for layers of up to 256 inputs: wider layers need a group)' },
  { name: 'format', kind: 'enum', values: FORMATS, help: 'How the result is stored: QDQ weights, W8A8 dynamic or static, or MatMulNBits (default qdq; static for smoothquant, dynamic for llmint8)' },
  { name: 'asym', kind: 'flag', help: 'Asymmetric weights (a zero point per group or channel)' },
  LAYERS_OPTION,
  OUTPUT_OPTION,
  OVERWRITE_OPTION,
  { name: 'recipe', kind: 'string', placeholder: 'FILE', help: 'Apply a plan recipe (*.qrecipe.yaml); its model is relative to the recipe file unless MODEL.onnx is given' },
  JSON_OPTION,
];

/**
 * The options of particular methods, one group per method. Kept apart from the general options
 * so that they can be generated from the method table.
 */
export const QUANTIZE_METHOD_OPTIONS: readonly OptionGroup[] = [
  { title: 'Calibration (gptq, smoothquant, llmint8, plan; and the held-out check of every method)', options: CALIBRATION_OPTIONS },
  {
    title: 'GPTQ options',
    options: [
      { name: 'act-order', kind: 'flag', help: 'Quantize columns in order of decreasing Hessian diagonal' },
      { name: 'damp', kind: 'number', min: 0, default: 0.01, help: 'Damping added to the Hessian diagonal, as a fraction of its mean' },
    ],
  },
  { title: 'SmoothQuant options', options: [{ name: 'alpha', kind: 'number', min: 0, max: 1, default: 0.5, help: 'Migration strength: how much of the activation outliers moves into the weights' }] },
  { title: 'LLM.int8() options', options: [{ name: 'threshold', kind: 'number', min: 1e-6, default: 6, help: 'Input channels whose activation absmax reaches this stay in float' }] },
  {
    title: 'Plan options',
    options: [
      { name: 'budget-bits', kind: 'number', min: 0.001, max: 32, placeholder: 'B', help: 'Average stored bits per weight the plan may use' },
      { name: 'budget-error', kind: 'number', min: 0, placeholder: 'E', help: 'Summed relative layer error the plan may reach (instead of --budget-bits)' },
      { name: 'weights', kind: 'enum', values: WEIGHTS, default: 'rtn', help: 'How the quantized layers of a plan get their weights' },
      { name: 'plan-only', kind: 'flag', help: 'Print the plan as an editable recipe instead of writing a model' },
    ],
  },
];

/** What `quantize` takes. */
export const QUANTIZE_SPEC: CommandSpec = {
  name: 'quantize',
  summary: 'Quantize MatMul/Gemm weights of an ONNX model into a new model and report the error',
  usage: ['quantize MODEL.onnx --method rtn|gptq|smoothquant|llmint8|plan [options]', 'quantize [MODEL.onnx] --recipe PLAN.qrecipe.yaml [-o OUT.onnx] [--json]'],
  description: 'Quantize the MatMul/Gemm weights of an ONNX model into a new model (default MODEL.q<bits>.onnx beside it, never overwriting), check that ONNX Runtime loads it, and report the error on held-out inputs. smoothquant is W8A8 after migrating activation outliers into the weights; llmint8 keeps input channels with outliers in float and the rest W8A8; plan chooses float, INT8 or INT4 per layer under a budget, and --plan-only prints that plan as a recipe that --recipe applies.',
  arguments: [{ name: 'MODEL.onnx', help: 'The ONNX model (quantize reads ONNX models only)', count: 'optional' }],
  options: GENERAL_OPTIONS,
  groups: QUANTIZE_METHOD_OPTIONS,
  examples: [
    'quantize model.onnx --method rtn --bits 4 --group 128 --format nbits',
    'quantize model.onnx --method gptq --bits 4 --group 128 --calib inputs.npz',
    'quantize model.onnx --method plan --budget-bits 5 --plan-only > model.qrecipe.yaml',
    'quantize model.onnx --recipe model.qrecipe.yaml -o model.mixed.onnx',
  ],
};

/** Drops the command word when a caller passes the whole command line after `quantscope`. */
export function withoutCommandWord(argv: readonly string[], word: string): readonly string[] {
  return argv[0] === word ? argv.slice(1) : argv;
}

/**
 * The calibration options shared by `quantize` and `prune` (`--samples`, `--batch`, `--seq`,
 * `--calib`), or undefined when none was given.
 */
export async function calibrationFromArgs(args: ParsedArgs): Promise<QuantizeCalibration | undefined> {
  const samples = args.number('samples');
  const batch = args.number('batch');
  const sequenceLength = args.number('seq');
  const file = args.string('calib');
  if (file !== undefined) await checkFile(file, { folders: true });
  if (samples === undefined && batch === undefined && sequenceLength === undefined && file === undefined) return undefined;
  return { ...(samples ? { samples } : {}), ...(batch ? { batch } : {}), ...(sequenceLength ? { sequenceLength } : {}), ...(file ? { file } : {}) };
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

/** The plan budget from `--budget-bits` or `--budget-error`. */
function budgetFromArgs(args: ParsedArgs): PlanBudgetParams | undefined {
  const bits = args.number('budget-bits');
  const error = args.number('budget-error');
  if (bits !== undefined && error !== undefined) throw new UsageError('give --budget-bits or --budget-error, not both', 'quantize');
  if (bits !== undefined) return { kind: 'bits', bitsPerWeight: bits };
  if (error !== undefined) return { kind: 'error', maxError: error };
  return undefined;
}

/** Parameters from a plan recipe: the model (relative to the recipe) and each layer's precision. */
async function paramsFromRecipe(file: string): Promise<Pick<QuantizeParams, 'path' | 'method' | 'plan' | 'weights' | 'budget'>> {
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
    method: 'plan',
    plan: Object.fromEntries(recipe.layers.map((l) => [l.layer, l.choice])),
    weights: recipe.weights,
    ...(recipe.budget ? { budget: recipe.budget } : {}),
  };
}

/** The job parameters from a parsed `quantize` command line; checks the model file first. */
export async function quantizeParams(args: ParsedArgs): Promise<QuantizeParams> {
  const recipeFile = args.string('recipe');
  const fromRecipe = recipeFile === undefined ? undefined : await paramsFromRecipe(recipeFile);
  const given = args.positional[0];
  if (given === undefined && !fromRecipe) throw new UsageError('quantize needs MODEL.onnx (or --recipe FILE)', 'quantize');
  const path = given ?? fromRecipe?.path ?? '';
  const methodGiven = args.choice('method', METHODS);
  if (!fromRecipe && !methodGiven) throw new UsageError(`quantize needs --method ${METHODS.join('|')}`, 'quantize');
  const method: QuantizeMethod = fromRecipe ? 'plan' : methodGiven ?? 'rtn';
  const defaultFormat: QuantizeFormat = method === 'smoothquant' ? 'static' : method === 'llmint8' ? 'dynamic' : 'qdq';
  const format = args.choice('format', FORMATS) ?? defaultFormat;
  // W8A8 methods and formats are 8-bit, MatMulNBits is 4-bit, a plan chooses per layer.
  const impliedBits = method === 'plan' || method === 'smoothquant' || method === 'llmint8' || format === 'dynamic' || format === 'static' ? '8' : format === 'nbits' ? '4' : undefined;
  const bitsText = args.string('bits') ?? impliedBits;
  if (bitsText === undefined) throw new UsageError(`--method ${method} with --format ${format} needs --bits 8|4|3`, 'quantize');
  const bits = bitsText === '8' ? 8 : bitsText === '4' ? 4 : 3;
  const group = args.number('group');
  const alpha = args.number('alpha');
  const threshold = args.number('threshold');
  const weights = args.choice('weights', WEIGHTS) ?? fromRecipe?.weights;
  const budget = budgetFromArgs(args) ?? fromRecipe?.budget;
  if (method === 'plan' && !budget && !fromRecipe) throw new UsageError('--method plan needs --budget-bits B (average stored bits per weight) or --budget-error E (summed layer error), or --recipe FILE', 'quantize');
  if (args.has('plan-only') && (method !== 'plan' || !budget)) throw new UsageError('--plan-only goes with --method plan and a budget', 'quantize');
  const output = args.string('output');
  const damping = args.number('damp');
  await checkInput(path, 'quantize', ['onnx']);
  const pattern = args.string('layers');
  const calibration = await calibrationFromArgs(args);
  return {
    path, method, bits, format,
    ...(output ? { output } : {}),
    ...(args.has('overwrite') ? { overwrite: true } : {}),
    ...(group ? { group } : {}),
    ...(args.has('asym') ? { symmetric: false } : {}),
    ...(args.has('act-order') ? { actOrder: true } : {}),
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

/** The job parameters from the command line after the word `quantize`. */
export async function quantizeParamsFromArgs(argv: readonly string[]): Promise<QuantizeParams> {
  return quantizeParams(parseArgs(QUANTIZE_SPEC, withoutCommandWord(argv, 'quantize')));
}

/** `quantscope quantize`: 0 done, 1 refused or failed (an existing output, a scheme the format cannot hold, an unreadable model), 2 usage, 130 interrupted. */
export const QUANTIZE_COMMAND: CliCommand = {
  spec: QUANTIZE_SPEC,
  run: async (args, output) => {
    const params = await quantizeParams(args);
    if (args.has('plan-only') && params.budget) {
      const planParams: PlanParams = { path: params.path, budget: params.budget, ...(params.calibration ? { calibration: params.calibration } : {}), ...(params.layers ? { layers: params.layers } : {}) };
      const weights = params.weights ?? 'rtn';
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
