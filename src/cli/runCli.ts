import { COMMANDS } from './commands';
import { nearestName } from './nearestName';
import { UsageError } from './parseArgs';
import { renderCommandHelp, renderGlobalHelp } from './renderHelp';
import { EXIT, reportError } from './reportError';
import { runCommand } from './runCommand';
import type { CliOutput } from './runCliJob';
import { VERSION } from './version';

const SPECS = COMMANDS.map((c) => c.spec);

function unknownCommand(name: string): UsageError {
  const near = nearestName(name, [...SPECS.map((s) => s.name), 'help']);
  return new UsageError(`unknown command "${name}"${near ? `; did you mean ${near}?` : ''}`);
}

/**
 * The whole CLI: `argv` is what follows `quantscope`. Prints through `output` and returns the
 * exit code (0 success, 1 failure, 2 usage, 130 interrupted); it never throws.
 */
export async function runCli(argv: readonly string[], output: CliOutput): Promise<number> {
  const at = argv.findIndex((a) => !a.startsWith('-'));
  const before = at < 0 ? argv : argv.slice(0, at);
  if (before.includes('--version') || before.includes('-V')) {
    output.out(`quantscope ${VERSION}\n`);
    return EXIT.ok;
  }
  if (at < 0) {
    const help = before.includes('--help') || before.includes('-h');
    if (help) output.out(renderGlobalHelp(SPECS));
    else if (before.length) return reportError(new UsageError(`unknown option ${before[0]}; give a command first`), before.includes('--json'), output);
    else output.err(renderGlobalHelp(SPECS));
    return help ? EXIT.ok : EXIT.usage;
  }
  const name = argv[at];
  const rest = [...before, ...argv.slice(at + 1)];
  if (name === 'help') {
    const topic = rest.find((a) => !a.startsWith('-'));
    if (topic === undefined) {
      output.out(renderGlobalHelp(SPECS));
      return EXIT.ok;
    }
    const spec = SPECS.find((s) => s.name === topic);
    if (!spec) return reportError(unknownCommand(topic), false, output);
    output.out(renderCommandHelp(spec));
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) return reportError(unknownCommand(name), rest.includes('--json'), output);
  return runCommand(command, rest, output);
}
