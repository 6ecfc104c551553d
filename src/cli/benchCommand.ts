/**
 * `quantscope bench A.onnx [B.onnx …]`: times ONNX models interleaved on the same inputs and
 * explains the differences.
 */
import type { BenchParams, OptimizationLevel } from '../protocol/benchTypes';
import { benchmarkModels } from '../worker/jobs/benchmark';
import { checkFile, checkGraphInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec } from './CommandSpec';
import { parseArgs, UsageError, type ParsedArgs } from './parseArgs';
import { withoutCommandWord } from './quantizeCommand';
import { renderBench } from './renderBench';
import { runCommand } from './runCommand';
import { PROCESS_OUTPUT, runCliJob, type CliOutput } from './runCliJob';

const LEVELS: readonly OptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

/** What `bench` takes. */
export const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  summary: 'Time ONNX models (or language models\' built graphs) interleaved on the same inputs, compare them with the first and explain why',
  usage: ['bench A.onnx [B.onnx …] [options]'],
  description: 'Time ONNX models interleaved on the same inputs, compare each with the first (ratio of medians and output agreement), profile their operators and explain the result.',
  arguments: [{ name: 'MODEL.onnx', help: 'One or more ONNX models or language-model checkpoints (timed as their built graph); the first is the baseline', count: 'one-or-more' }],
  options: [
    { name: 'threads', kind: 'int', min: 0, default: 0, help: 'Intra-op threads of ONNX Runtime (0: its default)' },
    { name: 'runs', kind: 'int', min: 1, default: 20, help: 'Timed runs per model' },
    { name: 'warmup', kind: 'int', min: 0, default: 3, help: 'Untimed runs per model first' },
    { name: 'batch', kind: 'int', min: 1, default: 1, help: 'Batch size of generated inputs' },
    { name: 'seq', kind: 'int', min: 1, default: 128, help: 'Length of symbolic (sequence) dimensions of generated inputs' },
    { name: 'dim', kind: 'string', placeholder: 'NAME=N', repeatable: true, help: 'The size of one named symbolic dimension' },
    { name: 'budget', kind: 'int', min: 1, placeholder: 'MS', help: 'Stop the timed rounds after this many milliseconds (default: no limit)' },
    { name: 'opt', kind: 'enum', values: LEVELS, default: 'all', help: 'ONNX Runtime graph optimization level' },
    { name: 'inputs', kind: 'string', placeholder: 'FILE', help: 'Inputs from a .npy/.npz or .pb file instead of generated ones' },
    { name: 'no-profile', kind: 'flag', help: 'Skip the per-operator profile' },
    JSON_OPTION,
  ],
  examples: ['bench model.onnx model.q4.onnx --threads 4 --runs 50'],
};

/** The job parameters from a parsed `bench` command line. */
function benchParams(args: ParsedArgs): BenchParams {
  const dims: Record<string, number> = {};
  for (const d of args.strings('dim')) {
    const m = /^([^=]+)=(\d+)$/.exec(d);
    if (!m || Number(m[2]) <= 0) throw new UsageError(`--dim must be NAME=N with N > 0, got "${d}"`, 'bench');
    dims[m[1]] = Number(m[2]);
  }
  const num = (name: string): number | undefined => args.number(name);
  const threads = num('threads'), runs = num('runs'), warmup = num('warmup'), batch = num('batch'), sequenceLength = num('seq'), timeBudgetMs = num('budget');
  const optimizationLevel = args.choice('opt', LEVELS);
  const inputsFile = args.string('inputs');
  return {
    models: [...args.positional],
    ...(threads !== undefined ? { threads } : {}),
    ...(runs !== undefined ? { runs } : {}),
    ...(warmup !== undefined ? { warmup } : {}),
    ...(batch !== undefined ? { batch } : {}),
    ...(sequenceLength !== undefined ? { sequenceLength } : {}),
    ...(Object.keys(dims).length ? { dims } : {}),
    ...(timeBudgetMs !== undefined ? { timeBudgetMs } : {}),
    ...(optimizationLevel ? { optimizationLevel } : {}),
    ...(inputsFile ? { inputsFile } : {}),
    ...(args.has('no-profile') ? { profile: false } : {}),
  };
}

/** The job parameters from the command line after the word `bench`. */
export function benchParamsFromArgs(argv: readonly string[]): BenchParams {
  return benchParams(parseArgs(BENCH_SPEC, withoutCommandWord(argv, 'bench')));
}

/** `quantscope bench`: 0 done, 1 failed (an unreadable model or inputs), 2 usage, 130 interrupted. */
export const BENCH_COMMAND: CliCommand = {
  spec: BENCH_SPEC,
  run: async (args, output) => {
    const params = benchParams(args);
    for (const m of params.models) await checkGraphInput(m, 'bench');
    if (params.inputsFile) await checkFile(params.inputsFile);
    return runCliJob('bench', (ctx) => benchmarkModels(params, ctx), renderBench, args.json, 'interrupted', output);
  },
};

/** Runs `quantscope bench` with the arguments after the command word (JSON with `json` or `--json`); returns the exit code. */
export function runBench(argv: readonly string[], json: boolean, output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  return runCommand(BENCH_COMMAND, json && !argv.includes('--json') ? [...argv, '--json'] : argv, output);
}
