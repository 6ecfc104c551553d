/**
 * `quantscope prune MODEL.onnx --method magnitude|nm|sparsegpt …`: prunes the MatMul/Gemm
 * weights of an ONNX model into a new model.
 */
import { METHODS } from '../core/transform/methods';
import { methodsOf } from '../core/transform/validateParams';
import type { PruneParams } from '../protocol/pruneTypes';
import { methodOptionGroups, methodParamsFromArgs, type CliMethodTable } from './methodOptions';
import { pruneModel } from '../worker/jobs/prune';
import { checkGraphInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec, type OptionGroup, type OptionSpec } from './CommandSpec';
import { CALIBRATION_OPTIONS, LAYERS_OPTION, OUTPUT_OPTION, OVERWRITE_OPTION } from './commonOptions';
import { parseArgs, UsageError, type ParsedArgs } from './parseArgs';
import { calibrationFromArgs, dropUndefined, layersMatching, withoutCommandWord } from './quantizeCommand';
import { renderPrune } from './renderPrune';
import { runCommand } from './runCommand';
import { PROCESS_OUTPUT, runCliJob, type CliOutput } from './runCliJob';

/** The options every pruning method takes; the methods' own come from the method table. */
function generalOptions(table: CliMethodTable): readonly OptionSpec[] {
  return [
    { name: 'method', kind: 'enum', values: methodsOf(table, 'prune').map((m) => m.name), help: 'The pruning method (required)' },
    LAYERS_OPTION,
    OUTPUT_OPTION,
    OVERWRITE_OPTION,
    JSON_OPTION,
  ];
}

/** The option groups of the methods in `table`, then calibration's. */
function methodGroups(table: CliMethodTable): readonly OptionGroup[] {
  return [...methodOptionGroups(table, 'prune'), { title: 'Calibration (sparsegpt; and the held-out check of every method)', options: CALIBRATION_OPTIONS }];
}

/** The method options of `prune`, generated from the method table. */
export const PRUNE_METHOD_OPTIONS: readonly OptionGroup[] = methodGroups(METHODS);

/** What `prune` takes. */
export const PRUNE_SPEC: CommandSpec = pruneSpec(METHODS);

/** The `prune` command as a method table makes it: its methods and their options. */
export function pruneSpec(table: CliMethodTable): CommandSpec {
  return {
  name: 'prune',
  summary: 'Prune MatMul/Gemm weights of an ONNX model or a language-model checkpoint (magnitude, N:M, SparseGPT) into a new model',
  usage: [`prune MODEL.onnx --method ${methodsOf(table, 'prune').map((m) => m.name).join('|')} [options]`],
  description: 'Prune the MatMul/Gemm weights of an ONNX model into a new model (default MODEL.pruned.onnx or MODEL.<n>of<m>.onnx beside it, never overwriting), check that ONNX Runtime loads it, and report the error on held-out inputs. ONNX Runtime on CPU has no sparse kernels: expect a smaller compressed size, not a speedup.',
  arguments: [{ name: 'MODEL.onnx', help: 'The ONNX model, or a language-model checkpoint (a Hugging Face folder, its model.safetensors or index, a .gguf), built into a graph that is cached beside it', count: 'one' }],
  options: generalOptions(table),
  groups: methodGroups(table),
  examples: ['prune model.onnx --method nm --pattern 2:4 --permute', 'prune model.onnx --method sparsegpt --sparsity 0.5 --calib inputs.npz -o model.sparse.onnx'],
  };
}

/** The job parameters from a parsed `prune` command line; checks the model file first. */
export async function pruneParams(args: ParsedArgs): Promise<PruneParams> {
  const path = args.positional[0];
  const method = args.string('method');
  if (method === undefined) throw new UsageError(`prune needs --method ${methodsOf(METHODS, 'prune').map((m) => m.name).join('|')}`, 'prune');
  await checkGraphInput(path, 'prune');
  const layerPattern = args.string('layers');
  const base = dropUndefined({
    path,
    layers: layerPattern ? await layersMatching(path, layerPattern) : undefined,
    calibration: await calibrationFromArgs(args, path),
    output: args.string('output'),
    overwrite: args.has('overwrite') || undefined,
  });
  return methodParamsFromArgs<PruneParams>(METHODS, 'prune', args, base, method);
}

/** The job parameters from the command line after the word `prune`. */
export async function pruneParamsFromArgs(argv: readonly string[]): Promise<PruneParams> {
  return pruneParams(parseArgs(PRUNE_SPEC, withoutCommandWord(argv, 'prune')));
}

/** `quantscope prune`: 0 done, 1 refused or failed (an existing output, a pattern a layer cannot take, an unreadable model), 2 usage, 130 interrupted. */
export const PRUNE_COMMAND: CliCommand = {
  spec: PRUNE_SPEC,
  run: async (args, output) => {
    const params = await pruneParams(args);
    return runCliJob('prune', (ctx) => pruneModel(params, ctx), renderPrune, args.json, undefined, output);
  },
};

/** Runs `quantscope prune` with the arguments after the command word (JSON with `json` or `--json`); returns the exit code. */
export function runPrune(argv: readonly string[], json: boolean, output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  return runCommand(PRUNE_COMMAND, json && !argv.includes('--json') ? [...argv, '--json'] : argv, output);
}
