/**
 * `quantscope bench A.onnx [B.onnx …]`: times ONNX models interleaved on the same inputs and
 * explains the differences.
 */
import type { BenchParams, GenerationParams, OptimizationLevel } from '../protocol/benchTypes';
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
  summary: 'Time ONNX models (or language models\' built graphs) interleaved on the same inputs (or decoders generating tokens), compare them with the first and explain why',
  usage: ['bench A.onnx [B.onnx …] [options]', 'bench A.onnx [B.onnx …] --generate [--prompt P] [--new N] [--rounds K] [options]'],
  description: 'Time ONNX models interleaved on the same inputs, compare each with the first (ratio of medians and output agreement), profile their operators and explain the result. With --generate the models are decoders with a KV cache (input_ids, past_key_values.N.key|value → logits, present.N.key|value): each round prefills a prompt of P tokens (time to first token) and decodes N tokens greedily with the cache fed back (per-token latency, tokens/s, KV-cache bytes), and a pair is compared per phase and on whether the greedy tokens agree.',
  arguments: [{ name: 'MODEL.onnx', help: 'One or more ONNX models or language-model checkpoints (timed as their built graph); the first is the baseline', count: 'one-or-more' }],
  options: [
    { name: 'threads', kind: 'int', min: 0, default: 0, help: 'Intra-op threads of ONNX Runtime (0: its default)' },
    { name: 'runs', kind: 'int', min: 1, default: 20, help: 'Timed runs per model (without --generate)' },
    { name: 'warmup', kind: 'int', min: 0, default: 3, help: 'Untimed runs per model first (with --generate: whole generations, default 1)' },
    { name: 'batch', kind: 'int', min: 1, default: 1, help: 'Batch size of generated inputs' },
    { name: 'seq', kind: 'int', min: 1, default: 128, help: 'Length of symbolic (sequence) dimensions of generated inputs' },
    { name: 'dim', kind: 'string', placeholder: 'NAME=N', repeatable: true, help: 'The size of one named symbolic dimension' },
    { name: 'budget', kind: 'int', min: 1, placeholder: 'MS', help: 'Stop the timed rounds after this many milliseconds (default: no limit)' },
    { name: 'opt', kind: 'enum', values: LEVELS, default: 'all', help: 'ONNX Runtime graph optimization level' },
    { name: 'inputs', kind: 'string', placeholder: 'FILE', help: 'Inputs from a .npy/.npz or .pb file instead of generated ones' },
    { name: 'no-profile', kind: 'flag', help: 'Skip the per-operator profile' },
    JSON_OPTION,
  ],
  groups: [{
    title: 'Generation (decoders with a KV cache)',
    options: [
      { name: 'generate', kind: 'flag', help: 'Time generation: a prefill of the prompt, then greedy decoding through the cache' },
      { name: 'prompt', kind: 'int', min: 1, default: 32, placeholder: 'P', help: 'Prompt length in tokens (ids drawn from the vocabulary)' },
      { name: 'new', kind: 'int', min: 1, default: 32, placeholder: 'N', help: 'Decode steps after the prefill, one new token each' },
      { name: 'rounds', kind: 'int', min: 1, default: 3, placeholder: 'K', help: 'Timed generations per model, interleaved across models' },
      { name: 'prompt-text', kind: 'string', placeholder: 'TEXT', help: 'A text prompt instead of P generated ids; needs --tokenizer' },
      { name: 'tokenizer', kind: 'string', placeholder: 'FILE', help: 'tokenizer.json that turns --prompt-text into token ids' },
    ],
  }],
  examples: ['bench model.onnx model.q4.onnx --threads 4 --runs 50', 'bench decoder.onnx decoder.q4.onnx --generate --prompt 64 --new 64 --rounds 5'],
};

/** Options that only mean something with --generate, and latency-mode options that mean nothing with it. */
const GENERATION_ONLY = ['prompt', 'new', 'rounds', 'prompt-text', 'tokenizer'];
const LATENCY_ONLY = ['runs', 'batch', 'seq', 'dim', 'inputs'];

/** The `generate` field of the job parameters, with the checks that tie its options together. */
function generationParams(args: ParsedArgs): GenerationParams | undefined {
  const given = (names: readonly string[]): string[] => names.filter((n) => args.has(n)).map((n) => `--${n}`);
  if (!args.has('generate')) {
    const stray = given(GENERATION_ONLY);
    if (stray.length) throw new UsageError(`${stray.join(', ')} ${stray.length === 1 ? 'needs' : 'need'} --generate`, 'bench');
    return undefined;
  }
  const unused = given(LATENCY_ONLY);
  if (unused.length) throw new UsageError(`${unused.join(', ')} ${unused.length === 1 ? 'does' : 'do'} not apply with --generate${args.has('runs') ? ' (use --rounds)' : ''}`, 'bench');
  const text = args.string('prompt-text');
  const tokenizer = args.string('tokenizer');
  if (text !== undefined && args.has('prompt')) throw new UsageError('give --prompt (a length in tokens) or --prompt-text, not both', 'bench');
  if (text !== undefined && tokenizer === undefined) throw new UsageError('--prompt-text needs --tokenizer FILE to turn the text into token ids', 'bench');
  if (tokenizer !== undefined && text === undefined) throw new UsageError('--tokenizer is for --prompt-text; without a text the prompt is P generated ids', 'bench');
  const promptTokens = args.number('prompt'), newTokens = args.number('new');
  return {
    ...(promptTokens !== undefined ? { promptTokens } : {}),
    ...(newTokens !== undefined ? { newTokens } : {}),
    ...(text !== undefined && tokenizer !== undefined ? { prompt: text, tokenizer } : {}),
  };
}

/** The job parameters from a parsed `bench` command line. */
function benchParams(args: ParsedArgs): BenchParams {
  const generate = generationParams(args);
  const dims: Record<string, number> = {};
  for (const d of args.strings('dim')) {
    const m = /^([^=]+)=(\d+)$/.exec(d);
    if (!m || Number(m[2]) <= 0) throw new UsageError(`--dim must be NAME=N with N > 0, got "${d}"`, 'bench');
    dims[m[1]] = Number(m[2]);
  }
  const num = (name: string): number | undefined => args.number(name);
  const threads = num('threads'), runs = generate ? num('rounds') : num('runs'), warmup = num('warmup'), batch = num('batch'), sequenceLength = num('seq'), timeBudgetMs = num('budget');
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
    ...(generate ? { generate } : {}),
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
    if (params.generate?.tokenizer) await checkFile(params.generate.tokenizer);
    return runCliJob('bench', (ctx) => benchmarkModels(params, ctx), renderBench, args.json, 'interrupted', output);
  },
};

/** Runs `quantscope bench` with the arguments after the command word (JSON with `json` or `--json`); returns the exit code. */
export function runBench(argv: readonly string[], json: boolean, output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  return runCommand(BENCH_COMMAND, json && !argv.includes('--json') ? [...argv, '--json'] : argv, output);
}
