/**
 * `quantscope bench A.onnx [B.onnx …] [--threads N] [--runs N] [--warmup N] [--batch N] [--seq N]
 * [--dim NAME=N]… [--budget MS] [--opt LEVEL] [--inputs FILE] [--no-profile] [--json]`
 */
import { runCliJob } from './runCliJob';
import type { BenchParams, OptimizationLevel } from '../protocol/benchTypes';
import { benchmarkModels } from '../worker/jobs/benchmark';
import { parseArgs, UsageError } from './parseArgs';
import { renderBench } from './renderBench';

/** The help text of the command, for the CLI's usage. */
export const BENCH_USAGE = `  bench A.onnx [B.onnx …] [--threads N] [--runs N] [--warmup N] [--batch N] [--seq N]
        [--dim NAME=N]… [--budget MS] [--opt disabled|basic|extended|all] [--inputs FILE]
        [--no-profile] [--json]
                                         Time models interleaved on the same inputs, compare them
                                         with the first, profile operators and explain the result
`;

const VALUED = new Set(['threads', 'runs', 'warmup', 'batch', 'seq', 'dim', 'budget', 'opt', 'inputs']);
const LEVELS: readonly OptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

function integer(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${v}"`);
  return n;
}

/** The job parameters from the command line (after the word `bench`). */
export function benchParamsFromArgs(argv: readonly string[]): BenchParams {
  const args = parseArgs(argv, VALUED);
  const models = args.positional.filter((p) => p !== 'bench');
  if (!models.length) throw new UsageError('quantscope bench: expected one or more MODEL.onnx');
  for (const f of args.flags) if (f !== 'json' && f !== 'no-profile') throw new UsageError(`quantscope bench: unknown option --${f}`);
  const opt = (name: string): string | undefined => args.options.get(name)?.[0];
  const dims: Record<string, number> = {};
  for (const d of args.options.get('dim') ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(d);
    if (!m || Number(m[2]) <= 0) throw new UsageError(`--dim must be NAME=N with N > 0, got "${d}"`);
    dims[m[1]] = Number(m[2]);
  }
  const level = opt('opt');
  const optimizationLevel = level === undefined ? undefined : LEVELS.find((l) => l === level);
  if (level !== undefined && !optimizationLevel) throw new UsageError(`--opt must be ${LEVELS.join(', ')}; got "${level}"`);
  const threads = integer(opt('threads'), 'threads', 0);
  const runs = integer(opt('runs'), 'runs', 1);
  const warmup = integer(opt('warmup'), 'warmup', 0);
  const batch = integer(opt('batch'), 'batch', 1);
  const sequenceLength = integer(opt('seq'), 'seq', 1);
  const timeBudgetMs = integer(opt('budget'), 'budget', 1);
  const inputsFile = opt('inputs');
  return {
    models,
    ...(threads !== undefined ? { threads } : {}),
    ...(runs !== undefined ? { runs } : {}),
    ...(warmup !== undefined ? { warmup } : {}),
    ...(batch !== undefined ? { batch } : {}),
    ...(sequenceLength !== undefined ? { sequenceLength } : {}),
    ...(Object.keys(dims).length ? { dims } : {}),
    ...(timeBudgetMs !== undefined ? { timeBudgetMs } : {}),
    ...(optimizationLevel ? { optimizationLevel } : {}),
    ...(inputsFile ? { inputsFile } : {}),
    ...(args.flags.has('no-profile') ? { profile: false } : {}),
  };
}

/**
 * Runs `quantscope bench` with the arguments after the command word and prints the report (text,
 * or JSON with `json`). Returns the exit code: 0 done, 1 failed (an unreadable model or inputs),
 * 130 interrupted. Usage mistakes throw {@link UsageError} for the caller to print with the usage.
 */
export async function runBench(argv: readonly string[], json: boolean): Promise<number> {
  const params = benchParamsFromArgs(argv);
  return runCliJob('bench', (ctx) => benchmarkModels(params, ctx), renderBench, json, 'interrupted');
}
