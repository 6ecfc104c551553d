/**
 * The headless CLI. It calls the same worker functions the editor uses, in-process, so a script
 * and the editor see the same results.
 */
import { isFormatError } from '../core/FormatError';
import { QUIET_JOB } from '../worker/jobs/JobContext';
import { profileModel } from '../worker/jobs/profileModel';
import { profileWeights } from '../worker/jobs/profileWeights';
import { inspectModel } from '../worker/jobs/inspectModel';
import { parseArgs, positiveInt, UsageError } from './parseArgs';
import { BENCH_USAGE, runBench } from './benchCommand';
import { PRUNE_USAGE, runPrune } from './pruneCommand';
import { QUANTIZE_USAGE, runQuantize } from './quantizeCommand';
import { renderInspect } from './renderInspect';
import { renderProfile } from './renderProfile';
import { renderStats } from './renderStats';
import { terminalContext } from './runCliJob';

const USAGE = () => `Usage: quantscope <command> [options]

Commands:
  inspect FILE [--json]                  List a model: format, inputs and outputs, tensors
  stats FILE [--tensor NAME]... [--json] Weight statistics of every (or the named) tensor
  profile MODEL.onnx [--calib FILE]... [--tokenizer FILE] [--samples N] [--json]
                                         Weight and activation statistics and the sensitivity
                                         of every MatMul/Gemm layer, ranked
${QUANTIZE_USAGE}${PRUNE_USAGE}${BENCH_USAGE}
Options:
  --json                  Print machine-readable JSON (stable; see the README)
  --group N               Group size of the INT4 group schemes (default 128)
  --calib FILE            Calibration data: .npy/.npz per input name, or .pb TensorProto files
                          (repeatable); without it inputs are generated and marked synthetic
  --tokenizer FILE        tokenizer.json for a .txt calibration file (language models)
  --samples N             Calibration batches (default 8)
  --batch N, --seq N      Batch size and sequence length of generated inputs
  --threshold X           LLM.int8() outlier magnitude (default 6)
  -h, --help              Show this help
`;

const VALUED = new Set(['tensor', 'group', 'calib', 'samples', 'batch', 'seq', 'threshold', 'tokenizer']);

function one(positional: string[], command: string): string {
  if (positional.length !== 1) throw new UsageError(`quantscope ${command}: expected exactly one FILE`);
  return positional[0];
}

async function main(argv: readonly string[]): Promise<number> {
  // quantize and prune have options of their own; they parse everything after their command word.
  const at = argv.findIndex((a) => !a.startsWith('-'));
  if (argv[at] === 'quantize') return runQuantize(argv.slice(at + 1), argv.includes('--json'));
  if (argv[at] === 'prune') return runPrune(argv.slice(at + 1), argv.includes('--json'));
  if (argv[at] === 'bench') return runBench(argv.slice(at + 1), argv.includes('--json'));
  const args = parseArgs(argv, VALUED);
  const [command, ...rest] = args.positional;
  if (!command || args.flags.has('help') || args.flags.has('h')) {
    process.stdout.write(USAGE());
    return command || args.flags.size ? 0 : 2;
  }
  const json = args.flags.has('json');
  const print = (value: unknown, text: () => string): void => {
    process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text());
  };
  switch (command) {
    case 'inspect': {
      const summary = await inspectModel({ path: one(rest, command) }, QUIET_JOB);
      print(summary, () => renderInspect(summary));
      return 0;
    }
    case 'stats': {
      const job = terminalContext();
      const tensors = args.options.get('tensor');
      const groupSize = positiveInt(args.options.get('group')?.[0], 'group');
      const profile = await profileWeights({ path: one(rest, command), ...(tensors ? { tensors } : {}), ...(groupSize ? { groupSize } : {}) }, job);
      job.clear();
      if (tensors) {
        const missing = tensors.filter((n) => !profile.tensors.some((t) => t.name === n));
        if (missing.length) throw new UsageError(`no floating-point tensor named ${missing.map((m) => `"${m}"`).join(', ')}`);
      }
      print(profile, () => renderStats(profile));
      return 0;
    }
    case 'profile': {
      const job = terminalContext();
      const samples = positiveInt(args.options.get('samples')?.[0], 'samples');
      const batchSize = positiveInt(args.options.get('batch')?.[0], 'batch');
      const sequenceLength = positiveInt(args.options.get('seq')?.[0], 'seq');
      const t = args.options.get('threshold')?.[0];
      const threshold = t === undefined ? undefined : Number(t);
      if (threshold !== undefined && !(threshold > 0)) throw new UsageError(`--threshold must be a positive number, got "${t}"`);
      const profile = await profileModel(
        {
          path: one(rest, command),
          ...(args.options.get('calib') ? { calibrationFiles: args.options.get('calib') } : {}),
          ...(args.options.get('tokenizer') ? { tokenizer: args.options.get('tokenizer')?.[0] } : {}),
          ...(samples ? { samples } : {}),
          ...(batchSize ? { batchSize } : {}),
          ...(sequenceLength ? { sequenceLength } : {}),
          ...(threshold !== undefined ? { threshold } : {}),
        },
        job,
      );
      job.clear();
      print(profile, () => renderProfile(profile));
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`quantscope: ${e.message}\n\n${USAGE()}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`quantscope: ${isFormatError(e) ? '' : 'internal error: '}${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
