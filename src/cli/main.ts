/**
 * The headless CLI. It calls the same worker service the editor uses, in-process, so a script
 * and the editor see the same results.
 */
import { isFormatError } from '../core/FormatError';
import { QUIET_JOB } from '../worker/JobContext';
import { WorkerService } from '../worker/WorkerService';
import { renderInspect } from './renderInspect';

const USAGE = `Usage: quantscope <command> [options]

Commands:
  inspect FILE [--json]   List a model: format, inputs and outputs, tensors

Options:
  --json                  Print machine-readable JSON (stable; see the README)
  -h, --help              Show this help
`;

/** Parsed command line: positional arguments and flags. */
interface Args {
  readonly positional: string[];
  readonly flags: Set<string>;
}

function parse(argv: readonly string[]): Args {
  const positional: string[] = [];
  const flags = new Set<string>();
  for (const a of argv) {
    if (a.startsWith('-')) flags.add(a.replace(/^-+/, ''));
    else positional.push(a);
  }
  return { positional, flags };
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parse(argv);
  const [command, ...rest] = args.positional;
  if (!command || args.flags.has('help') || args.flags.has('h')) {
    process.stdout.write(USAGE);
    return command || args.flags.size ? 0 : 2;
  }
  const service = new WorkerService();
  switch (command) {
    case 'inspect': {
      if (rest.length !== 1) {
        process.stderr.write('quantscope inspect: expected exactly one FILE\n');
        return 2;
      }
      const summary = await service.inspect({ path: rest[0] }, QUIET_JOB);
      process.stdout.write(args.flags.has('json') ? JSON.stringify(summary, null, 2) + '\n' : renderInspect(summary));
      return 0;
    }
    default:
      process.stderr.write(`quantscope: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`quantscope: ${isFormatError(e) ? '' : 'internal error: '}${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
