/**
 * `quantscope quantize MODEL.onnx --method rtn|gptq --bits 8|4|3 [--group N] [--format qdq|dynamic|nbits]
 * [--asym] [--layers REGEX] [--samples N] [--batch N] [--seq N] [--calib FILE] [--act-order] [--damp X]
 * [-o OUT.onnx] [--overwrite] [--json]`
 */
import { runCliJob } from './runCliJob';
import { OnnxModel } from '../core/onnx/OnnxModel';
import { findWeightTargets } from '../core/onnx/rewrite/weightTargets';
import { quantizeModel } from '../worker/quantize';
import type { QuantizeCalibration, QuantizeFormat, QuantizeMethod, QuantizeParams } from '../protocol/quantizeTypes';
import { parseArgs, positiveInt, UsageError } from './parseArgs';
import { renderQuantize } from './renderQuantize';

/** The help text of the command, for the CLI's usage. */
export const QUANTIZE_USAGE = `  quantize MODEL.onnx --method rtn|gptq --bits 8|4|3 [--group N] [--format qdq|dynamic|nbits]
           [--asym] [--layers REGEX] [--samples N] [--batch N] [--seq N] [--calib FILE]
           [--act-order] [--damp X] [-o OUT.onnx] [--overwrite] [--json]
                                         Quantize MatMul/Gemm weights into a new model (default
                                         MODEL.q<bits>.onnx, never overwriting), check that ONNX
                                         Runtime loads it, and report the error on held-out inputs
`;

const VALUED = new Set(['method', 'bits', 'group', 'format', 'layers', 'samples', 'batch', 'seq', 'calib', 'damp']);

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
  return { ...(samples ? { samples } : {}), ...(batch ? { batch } : {}), ...(sequenceLength ? { sequenceLength } : {}), ...(file ? { file } : {}) };
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

/** The job parameters from the command line (after the word `quantize`). */
export async function quantizeParamsFromArgs(argv: readonly string[]): Promise<QuantizeParams> {
  const args = parseArgs(argv, VALUED);
  const files = args.positional.filter((p) => p !== 'quantize');
  if (files.length !== 1) throw new UsageError('quantscope quantize: expected exactly one MODEL.onnx');
  const path = files[0];
  const opt = (name: string): string | undefined => args.options.get(name)?.[0];
  const method = choice<QuantizeMethod>(opt('method'), 'method', ['rtn', 'gptq']);
  const bitsText = choice(opt('bits'), 'bits', ['8', '4', '3']);
  const bits = bitsText === '8' ? 8 : bitsText === '4' ? 4 : 3;
  const format = choice<QuantizeFormat>(opt('format'), 'format', ['qdq', 'dynamic', 'nbits'], 'qdq');
  const group = positiveInt(opt('group'), 'group');
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
  };
}

/**
 * Runs `quantscope quantize` with the arguments after the command word and prints the report
 * (text, or JSON with `json`). Returns the exit code: 0 done, 1 refused or failed (an existing
 * output, a scheme the format cannot hold, an unreadable model), 130 interrupted. Usage mistakes
 * throw {@link UsageError} for the caller to print with the usage.
 */
export async function runQuantize(argv: readonly string[], json: boolean): Promise<number> {
  const params = await quantizeParamsFromArgs(argv);
  return runCliJob('quantize', (ctx) => quantizeModel(params, ctx), renderQuantize, json);
}
