/**
 * `quantscope prune MODEL.onnx --method NAME [its options] [--layers REGEX] [--samples N]
 * [--batch N] [--seq N] [--calib FILE] [-o OUT.onnx] [--overwrite] [--json]`, with the methods and
 * their options from the method table.
 */
import { METHODS } from '../core/transform/methods';
import { methodsOf } from '../core/transform/validateParams';
import { runCliJob } from './runCliJob';
import { pruneModel } from '../worker/jobs/prune';
import type { PruneParams } from '../protocol/pruneTypes';
import { methodHelp, methodParamsFromArgs, valuedOptions } from './methodOptions';
import { parseArgs, UsageError } from './parseArgs';
import { calibrationFromArgs, dropUndefined, layersMatching, outputFromArgs, TRANSFORM_VALUED } from './quantizeCommand';
import { renderPrune } from './renderPrune';

/** The help text of the command, for the CLI's usage: the methods and their options come from the method table. */
export const PRUNE_USAGE = `  prune MODEL.onnx --method ${methodsOf(METHODS, 'prune').map((m) => m.name).join('|')} [method options]
           [--layers REGEX] [--samples N] [--batch N] [--seq N] [--calib FILE]
           [-o OUT.onnx] [--overwrite] [--json]
                                         Prune MatMul/Gemm weights into a new model (default
                                         MODEL.pruned.onnx or MODEL.<n>of<m>.onnx, never
                                         overwriting), check that ONNX Runtime loads it, and
                                         report the error on held-out inputs. ONNX Runtime on
                                         CPU has no sparse kernels: expect a smaller compressed
                                         size, not a speedup
${methodHelp(METHODS, 'prune')}`;

const VALUED = new Set([...TRANSFORM_VALUED, ...valuedOptions(METHODS, 'prune')]);

/** The job parameters from the command line (after the word `prune`). */
export async function pruneParamsFromArgs(argv: readonly string[]): Promise<PruneParams> {
  const args = parseArgs(argv, VALUED);
  const files = args.positional.filter((p) => p !== 'prune');
  if (files.length !== 1) throw new UsageError('quantscope prune: expected exactly one MODEL.onnx');
  const path = files[0];
  const opt = (name: string): string | undefined => args.options.get(name)?.[0];
  const layerPattern = opt('layers');
  const base = dropUndefined({
    path,
    layers: layerPattern ? await layersMatching(path, layerPattern) : undefined,
    calibration: calibrationFromArgs(opt),
    output: outputFromArgs(opt),
    overwrite: args.flags.has('overwrite') || undefined,
  });
  return methodParamsFromArgs<PruneParams>(METHODS, 'prune', args, base);
}

/**
 * Runs `quantscope prune` with the arguments after the command word and prints the report
 * (text, or JSON with `json`). Returns the exit code: 0 done, 1 refused or failed (an existing
 * output, a pattern a layer cannot take, an unreadable model), 130 interrupted. Usage mistakes
 * throw {@link UsageError} for the caller to print with the usage.
 */
export async function runPrune(argv: readonly string[], json: boolean): Promise<number> {
  const params = await pruneParamsFromArgs(argv);
  return runCliJob('prune', (ctx) => pruneModel(params, ctx), renderPrune, json);
}
