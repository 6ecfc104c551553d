/**
 * `quantscope prune MODEL.onnx --method magnitude|nm|sparsegpt [--sparsity S] [--pattern 2:4]
 * [--permute] [--global] [--layers REGEX] [--samples N] [--batch N] [--seq N] [--calib FILE]
 * [-o OUT.onnx] [--overwrite] [--json]`
 */
import { runCliJob } from './runCliJob';
import { pruneModel } from '../worker/prune';
import type { NMPattern, PruneMethod, PruneParams } from '../protocol/pruneTypes';
import { parseArgs, UsageError } from './parseArgs';
import { calibrationFromArgs, layersMatching, outputFromArgs } from './quantizeCommand';
import { renderPrune } from './renderPrune';

/** The help text of the command, for the CLI's usage. */
export const PRUNE_USAGE = `  prune MODEL.onnx --method magnitude|nm|sparsegpt [--sparsity S] [--pattern N:M] [--permute]
           [--global] [--layers REGEX] [--samples N] [--batch N] [--seq N]
           [--calib FILE [--tokenizer FILE]] [-o OUT.onnx] [--overwrite] [--json]
                                         Prune MatMul/Gemm weights into a new model (default
                                         MODEL.pruned.onnx or MODEL.<n>of<m>.onnx, never
                                         overwriting), check that ONNX Runtime loads it, and
                                         report the error on held-out inputs. ONNX Runtime on
                                         CPU has no sparse kernels: expect a smaller compressed
                                         size, not a speedup
`;

const VALUED = new Set(['method', 'sparsity', 'pattern', 'layers', 'samples', 'batch', 'seq', 'calib', 'tokenizer']);
const METHODS: readonly PruneMethod[] = ['magnitude', 'nm', 'sparsegpt'];

function parsePattern(v: string): NMPattern {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--pattern must look like 2:4; got "${v}"`);
  const n = Number(m[1]), mm = Number(m[2]);
  if (mm < 2 || n > mm) throw new UsageError(`--pattern ${v}: N:M needs 0 ≤ N ≤ M and M ≥ 2`);
  return { n, m: mm };
}

/** The job parameters from the command line (after the word `prune`). */
export async function pruneParamsFromArgs(argv: readonly string[]): Promise<PruneParams> {
  const args = parseArgs(argv, VALUED);
  const files = args.positional.filter((p) => p !== 'prune');
  if (files.length !== 1) throw new UsageError('quantscope prune: expected exactly one MODEL.onnx');
  const path = files[0];
  const opt = (name: string): string | undefined => args.options.get(name)?.[0];
  const methodText = opt('method');
  if (methodText === undefined) throw new UsageError(`quantscope prune needs --method ${METHODS.join('|')}`);
  const method = METHODS.find((m) => m === methodText);
  if (!method) throw new UsageError(`--method must be ${METHODS.join(', ')}; got "${methodText}"`);
  const patternText = opt('pattern');
  const pattern = patternText === undefined ? undefined : parsePattern(patternText);
  if (method === 'nm' && !pattern) throw new UsageError('--method nm needs --pattern N:M, e.g. 2:4');
  const sparsityText = opt('sparsity');
  const sparsity = sparsityText === undefined ? undefined : Number(sparsityText);
  if (sparsity !== undefined && !(sparsity >= 0 && sparsity <= 1)) throw new UsageError(`--sparsity must be a number in [0, 1]; got "${sparsityText}"`);
  const permute = args.flags.has('permute');
  if (permute && !pattern) throw new UsageError('--permute needs an N:M --pattern');
  const global = args.flags.has('global');
  if (global && method !== 'magnitude') throw new UsageError('--global applies to --method magnitude only');
  const output = outputFromArgs(opt);
  const layerPattern = opt('layers');
  const calibration = calibrationFromArgs(opt);
  return {
    path, method,
    ...(sparsity !== undefined ? { sparsity } : {}),
    ...(pattern ? { pattern } : {}),
    ...(permute ? { permute: true } : {}),
    ...(global ? { global: true } : {}),
    ...(layerPattern ? { layers: await layersMatching(path, layerPattern) } : {}),
    ...(calibration ? { calibration } : {}),
    ...(output ? { output } : {}),
    ...(args.flags.has('overwrite') ? { overwrite: true } : {}),
  };
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
