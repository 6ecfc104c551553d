/**
 * `quantscope prune MODEL.onnx --method magnitude|nm|sparsegpt …`: prunes the MatMul/Gemm
 * weights of an ONNX model into a new model.
 */
import type { NMPattern, PruneMethod, PruneParams } from '../protocol/pruneTypes';
import { pruneModel } from '../worker/prune';
import { checkInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec, type OptionGroup, type OptionSpec } from './CommandSpec';
import { CALIBRATION_OPTIONS, LAYERS_OPTION, OUTPUT_OPTION, OVERWRITE_OPTION } from './commonOptions';
import { parseArgs, UsageError, type ParsedArgs } from './parseArgs';
import { calibrationFromArgs, layersMatching, withoutCommandWord } from './quantizeCommand';
import { renderPrune } from './renderPrune';
import { runCommand } from './runCommand';
import { PROCESS_OUTPUT, runCliJob, type CliOutput } from './runCliJob';

const METHODS: readonly PruneMethod[] = ['magnitude', 'nm', 'sparsegpt'];

/** The options every pruning method takes. */
const GENERAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'method', kind: 'enum', values: METHODS, help: 'The pruning method (required)' },
  LAYERS_OPTION,
  OUTPUT_OPTION,
  OVERWRITE_OPTION,
  JSON_OPTION,
];

/**
 * The options of particular methods. Kept apart from the general options so that they can be
 * generated from the method table.
 */
export const PRUNE_METHOD_OPTIONS: readonly OptionGroup[] = [
  {
    title: 'Method options',
    options: [
      { name: 'sparsity', kind: 'number', min: 0, max: 1, default: 0.5, help: 'Fraction of the weights pruned (magnitude, and sparsegpt without --pattern)' },
      { name: 'pattern', kind: 'string', placeholder: 'N:M', help: 'Keep at most N of every M consecutive input weights, such as 2:4 (required for nm; optional for sparsegpt)' },
      { name: 'permute', kind: 'flag', help: 'Search an input-channel permutation that keeps more weight under the N:M pattern' },
      { name: 'global', kind: 'flag', help: 'One magnitude threshold over all layers instead of one per layer (magnitude only)' },
    ],
  },
  { title: 'Calibration (sparsegpt; and the held-out check of every method)', options: CALIBRATION_OPTIONS },
];

/** What `prune` takes. */
export const PRUNE_SPEC: CommandSpec = {
  name: 'prune',
  summary: 'Prune MatMul/Gemm weights of an ONNX model (magnitude, N:M, SparseGPT) into a new model',
  usage: ['prune MODEL.onnx --method magnitude|nm|sparsegpt [options]'],
  description: 'Prune the MatMul/Gemm weights of an ONNX model into a new model (default MODEL.pruned.onnx or MODEL.<n>of<m>.onnx beside it, never overwriting), check that ONNX Runtime loads it, and report the error on held-out inputs. ONNX Runtime on CPU has no sparse kernels: expect a smaller compressed size, not a speedup.',
  arguments: [{ name: 'MODEL.onnx', help: 'The ONNX model (prune reads ONNX models only)', count: 'one' }],
  options: GENERAL_OPTIONS,
  groups: PRUNE_METHOD_OPTIONS,
  examples: ['prune model.onnx --method nm --pattern 2:4 --permute', 'prune model.onnx --method sparsegpt --sparsity 0.5 --calib inputs.npz -o model.sparse.onnx'],
};

function parsePattern(v: string): NMPattern {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--pattern must look like 2:4; got "${v}"`, 'prune');
  const n = Number(m[1]), mm = Number(m[2]);
  if (mm < 2 || n > mm) throw new UsageError(`--pattern ${v}: N:M needs 0 ≤ N ≤ M and M ≥ 2`, 'prune');
  return { n, m: mm };
}

/** The job parameters from a parsed `prune` command line; checks the model file first. */
export async function pruneParams(args: ParsedArgs): Promise<PruneParams> {
  const path = args.positional[0];
  const method = args.choice('method', METHODS);
  if (!method) throw new UsageError(`prune needs --method ${METHODS.join('|')}`, 'prune');
  const patternText = args.string('pattern');
  const pattern = patternText === undefined ? undefined : parsePattern(patternText);
  if (method === 'nm' && !pattern) throw new UsageError('--method nm needs --pattern N:M, e.g. 2:4', 'prune');
  const sparsity = args.number('sparsity');
  const permute = args.has('permute');
  if (permute && !pattern) throw new UsageError('--permute needs an N:M --pattern', 'prune');
  const global = args.has('global');
  if (global && method !== 'magnitude') throw new UsageError('--global applies to --method magnitude only', 'prune');
  const output = args.string('output');
  await checkInput(path, 'prune', ['onnx']);
  const layerPattern = args.string('layers');
  const calibration = await calibrationFromArgs(args);
  return {
    path, method,
    ...(sparsity !== undefined ? { sparsity } : {}),
    ...(pattern ? { pattern } : {}),
    ...(permute ? { permute: true } : {}),
    ...(global ? { global: true } : {}),
    ...(layerPattern ? { layers: await layersMatching(path, layerPattern) } : {}),
    ...(calibration ? { calibration } : {}),
    ...(output ? { output } : {}),
    ...(args.has('overwrite') ? { overwrite: true } : {}),
  };
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
